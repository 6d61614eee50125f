"""Ridge geometry of a print: foreground mask, orientation field, ridge period, Gabor enhancement.

Orientation is the direction ridges run, in image coordinates (x right, y down), radians in [0, pi).
The same filter bank enhances prints here and grows synthetic ones in hardware_sim.
"""
from __future__ import annotations

import functools
import math

import cv2
import numpy as np

BLOCK = 16               # pixels: about two ridges at 500 ppi
DIRECTIONS = 16          # the filter bank's orientations (11.25 degrees apart)
PERIOD_RANGE = (5.0, 16.0)   # ridge periods of adult prints at 500 ppi, in pixels
DEFAULT_PERIOD = 9.0


def normalise(image: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance, float32: ridges (dark in the image) negative."""
    values = image.astype(np.float32)
    spread = float(values.std()) or 1.0
    return (values - float(values.mean())) / spread


def foreground(image: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Where the print is: blocks whose grey values vary like ridges do, closed and without specks."""
    values = image.astype(np.float32)
    mean = cv2.blur(values, (block, block))
    variance = cv2.blur(values * values, (block, block)) - mean * mean
    spread = np.sqrt(np.maximum(variance, 0.0))
    mask = (spread > 0.25 * float(np.percentile(spread, 95))).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (block + 1, block + 1))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    return mask.astype(bool)


def orientation(values: np.ndarray, sigma: float = 7.0) -> tuple[np.ndarray, np.ndarray]:
    """Ridge orientation [0, pi) and its coherence [0, 1] at every pixel, from the smoothed gradient tensor."""
    gx = cv2.Sobel(values, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(values, cv2.CV_32F, 0, 1, ksize=3)
    gxx = cv2.GaussianBlur(gx * gx, (0, 0), sigma)
    gyy = cv2.GaussianBlur(gy * gy, (0, 0), sigma)
    gxy = cv2.GaussianBlur(gx * gy, (0, 0), sigma)
    gradient = 0.5 * np.arctan2(2 * gxy, gxx - gyy)
    theta = np.mod(gradient + np.pi / 2, np.pi)      # ridges run across the gradient
    coherence = np.sqrt((gxx - gyy) ** 2 + 4 * gxy ** 2) / (gxx + gyy + 1e-6)
    return theta.astype(np.float32), coherence.astype(np.float32)


def period(values: np.ndarray, mask: np.ndarray) -> float:
    """The print's dominant ridge period in pixels, from the peak of its power spectrum."""
    ys, xs = np.nonzero(mask)
    if len(ys) < BLOCK * BLOCK:
        return DEFAULT_PERIOD
    patch = np.where(mask, values, 0.0)[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(patch))) ** 2
    height, width = patch.shape
    fy, fx = np.mgrid[0:height, 0:width]
    radius = np.hypot((fy - height // 2) / height, (fx - width // 2) / width)   # cycles per pixel
    low, high = 1.0 / PERIOD_RANGE[1], 1.0 / PERIOD_RANGE[0]
    band = (radius >= low) & (radius <= high)
    if not band.any():
        return DEFAULT_PERIOD
    bins = np.linspace(low, high, 24)
    power = np.bincount(np.digitize(radius[band], bins), spectrum[band], minlength=len(bins) + 1)
    peak = int(np.argmax(power[1:len(bins)])) + 1
    return float(np.clip(1.0 / (0.5 * (bins[peak - 1] + bins[min(peak, len(bins) - 1)])), *PERIOD_RANGE))


@functools.lru_cache(maxsize=32)
def gabor_bank(ridge_period: float, directions: int = DIRECTIONS) -> tuple[np.ndarray, ...]:
    """Even Gabor kernels tuned to the period, one per ridge orientation k*pi/directions."""
    sigma = 0.5 * ridge_period
    half = int(math.ceil(3 * sigma))
    kernels = []
    for k in range(directions):
        ridge = k * math.pi / directions
        kernel = cv2.getGaborKernel((2 * half + 1, 2 * half + 1), sigma, ridge + math.pi / 2, ridge_period,
                                    1.0, 0.0, ktype=cv2.CV_32F)
        kernel -= kernel.mean()                      # no response to flat grey
        kernels.append(kernel / np.abs(kernel).sum())
    return tuple(kernels)


@functools.lru_cache(maxsize=64)
def _bank_spectra(ridge_period: float, height: int, width: int) -> tuple[np.ndarray, ...]:
    """The Gabor bank's kernels as spectra of a height x width image (OpenCV's packed real format),
    each flipped: filter2D correlates, and a product of spectra convolves."""
    spectra = []
    for kernel in gabor_bank(ridge_period):
        placed = np.zeros((height, width), np.float32)
        placed[:kernel.shape[0], :kernel.shape[1]] = cv2.flip(kernel, -1)
        spectra.append(cv2.dft(placed))
    return tuple(spectra)


def enhance(values: np.ndarray, theta: np.ndarray, ridge_period: float) -> np.ndarray:
    """Each pixel filtered by the kernel of its own orientation: ridges joined, noise between them gone.

    The same as filter2D with each kernel of the bank (borders reflected the same way), but the image is
    transformed once and each kernel costs one product of spectra and one inverse transform: filter2D
    transforms the image again for every kernel, twice the CPU time."""
    period = round(ridge_period * 4) / 4
    bank = gabor_bank(period)
    size = bank[0].shape[0]
    half = size // 2
    height, width = values.shape
    rows, columns = cv2.getOptimalDFTSize(height + size - 1), cv2.getOptimalDFTSize(width + size - 1)
    padded = cv2.copyMakeBorder(values.astype(np.float32), half, rows - height - half, half,
                                columns - width - half, cv2.BORDER_REFLECT_101)
    spectrum = cv2.dft(padded)
    index = np.rint(theta / (math.pi / len(bank))).astype(np.int32) % len(bank)
    out = np.zeros_like(values, dtype=np.float32)
    for k, kernel_spectrum in enumerate(_bank_spectra(period, rows, columns)):
        chosen = index == k
        if chosen.any():
            response = cv2.idft(cv2.mulSpectrums(spectrum, kernel_spectrum, 0),
                                flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
            # the padded image's pixel (half + y, half + x) is convolved into (size - 1 + y, ...) of the response
            out[chosen] = response[2 * half:2 * half + height, 2 * half:2 * half + width][chosen]
    return out
