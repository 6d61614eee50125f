"""UN/EDIFACT for advance passenger data: the separators a message uses, its segments, its problems.

Pure: text in, segments and problems out. pydifact splits a segment into elements and components
(honouring the release character); what a message declares and what it really uses is settled in
`syntax`, and the interchange envelope (UNB/UNH/UNT/UNZ, garbage after UNZ) in `segments`.
"""
