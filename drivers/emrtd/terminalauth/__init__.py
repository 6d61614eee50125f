"""Extended Access Control's Terminal Authentication (BSI TR-03110, version 1 as ePassports run it
after Chip Authentication): card verifiable certificates (`certificates`: CVCA, Document Verifier,
Inspection System; requests) and the protocol over any transceiver (`protocol`)."""
