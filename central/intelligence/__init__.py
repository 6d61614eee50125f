"""The risk analysis unit's room: graded intelligence reports, the intelligence cycle, need to know,
link analysis, risk profiles and trends (docs/INTELLIGENCE.md)."""
