"""The fingerprint scanner: the interface (`scanner`) and the ZhianTec ZFM serial protocol (`zfm`, `protocol`)."""
