"""Face calibration tooling behind `limes face evaluate|calibrate` and `limes bench face`: labelled
pairs, FAR/FRR, EER, the recommended threshold (evaluation) and the DET plot (plot). Not used by
the gate at run time, so it sits beside its commands rather than in drivers.face."""
