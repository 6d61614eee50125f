"""Who may do what (roles of stations and users), the audit trail of every access, and retention."""
