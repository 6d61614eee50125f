"""The primary-line officer desk (`limes edge desk`, docs/DESK.md): the gate's devices and checks, an
officer who decides.

`counter` (one officer's transactions: the gate's checks as each arrives, the officer's decision),
`remote` (central's officer session, decisions, history and counter cases), `events` (the live
updates the screen listens to), `refusal_form` (the uniform refusal form as PDF), `texts` (the screen
and the form in English, French and Spanish), `screen` (the officer's screen: Flask on loopback,
server-sent events), `station` (wiring from device URLs, as edge.runtime does for a gate).
"""
