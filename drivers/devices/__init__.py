"""Device drivers: the PC/SC chip reader, the camera and the serial document reader."""
