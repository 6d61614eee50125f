"""The primary-line officer desk's room at central (docs/DESK.md).

`sessions`: an officer signed in at a desk station, the session bound to that station; every
decision's author is taken from it. `decisions`: the officer's admit, refuse (ground A to J) or
refer, recorded as a crossing with a referral that carries the officer's decision. `counter`: the
travellers a gate could not identify and handed to the counter, until a desk settles them.
"""
