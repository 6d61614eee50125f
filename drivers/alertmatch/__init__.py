"""How a traveller is compared with alert lists, the same at central and at an offline gate.

`normalize`: document numbers (OCR confusions folded), state codes, name words.
`persons`: the fuzzy comparison of an identity with a person alert.
Both are pure functions: central's checks and the gate's offline alert cache
import them, so the two can never decide differently.
"""
