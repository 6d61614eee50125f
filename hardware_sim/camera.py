"""A simulated IP camera: an HTTP MJPEG stream of scenes built from real face photos.

The gate reads it with cv2.VideoCapture exactly as it would a network camera
(`multipart/x-mixed-replace` over HTTP, decoded by OpenCV's FFmpeg backend).
Live scenes move: the head sways and breathes by a small similarity jitter and
the eyes blink (eyelids painted over the eye landmarks for a few frames), so a
genuine traveller shows the cues a liveness check looks for; a print attack is a
still picture and a replay attack shows a screen's moire and flicker.

Only the photo's landmarks come from drivers.face (a pure helper); the product
sees nothing but the video stream.
"""
from __future__ import annotations

import functools
import math
import threading
import time
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

from drivers.face import detect_faces, load_image

WIDTH, HEIGHT = 640, 480
FPS = 15.0
BACKGROUND = (96, 104, 110)  # RGB of the wall behind the traveller
SETTLED_EYE_DISTANCE = 95.0  # px between the eye centres once the traveller stands at the gate
CLOSE_EYE_DISTANCE = 140.0  # ... once one stands close to it (the close_up scene)
APPROACH_SECONDS = 1.2
BLINK_FRAMES = (0.5, 1.0, 1.0, 1.0, 0.6)  # eyelid closure over the frames of one blink
LIDS_MEET = 0.85  # where a closed eye's lids meet, from the upper lid's outline (0) to the lower's (1)
BOUNDARY = "limesframe"


@dataclass(frozen=True)
class _Subject:
    photo: np.ndarray  # RGB
    landmarks: np.ndarray  # (68, 2)
    eye_center: np.ndarray
    eye_distance: float
    skin: np.ndarray  # RGB float, sampled under the eyes: the colour of a closed eyelid


@functools.lru_cache(maxsize=16)
def _subject(path: str) -> _Subject:
    photo = load_image(path)
    faces = detect_faces(photo)
    if not faces:
        raise ValueError(f"no face in {path}: a scene needs a photo with a face")
    face = faces[0]
    points = face.landmarks
    right, left = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
    distance = float(np.linalg.norm(left - right))
    top = int(max(points[36:48, 1].max() + 0.15 * distance, 0))
    bottom = int(min(top + 0.25 * distance, photo.shape[0]))
    x0, x1 = int(max(points[36, 0], 0)), int(min(points[45, 0], photo.shape[1]))
    patch = photo[top:bottom, x0:x1].reshape(-1, 3)
    skin = np.median(patch, axis=0).astype(np.float32) if len(patch) else np.array([150, 120, 100], np.float32)
    return _Subject(photo, points, (right + left) / 2.0, distance, skin)


@dataclass(frozen=True)
class Scene:
    """What the camera sees; build one with the class methods."""

    name: str
    paths: tuple[str, ...] = ()
    live: bool = True  # sway and blink
    walks_up: bool = False  # approaches from afar before settling
    light: float = 1.0  # exposure factor
    blur_sigma: float = 0.0
    turn_deg: float = 0.0  # head turned sideways
    screen: bool = False  # shown on a display: moire and flicker
    seed: int = 7
    eye_distance: float = SETTLED_EYE_DISTANCE

    @classmethod
    def portrait(cls, path) -> "Scene":
        return cls("portrait", (str(path),))

    @classmethod
    def approach(cls, path) -> "Scene":
        return cls("approach", (str(path),), walks_up=True)

    @classmethod
    def close_up(cls, path) -> "Scene":
        """Walks up and stands nearer the camera than most: eyes CLOSE_EYE_DISTANCE px apart, settled."""
        return cls("close_up", (str(path),), walks_up=True, eye_distance=CLOSE_EYE_DISTANCE)

    @classmethod
    def empty(cls) -> "Scene":
        return cls("empty", live=False)

    @classmethod
    def poor_light(cls, path) -> "Scene":
        return cls("poor_light", (str(path),), light=0.22)

    @classmethod
    def blur(cls, path) -> "Scene":
        return cls("blur", (str(path),), blur_sigma=5.0)

    @classmethod
    def looking_away(cls, path) -> "Scene":
        return cls("looking_away", (str(path),), turn_deg=45.0)

    @classmethod
    def two_faces(cls, path_a, path_b) -> "Scene":
        return cls("two_faces", (str(path_a), str(path_b)), eye_distance=70.0)

    @classmethod
    def print_attack(cls, path) -> "Scene":
        return cls("print_attack", (str(path),), live=False)

    @classmethod
    def replay_attack(cls, path) -> "Scene":
        return cls("replay_attack", (str(path),), screen=True)

    def with_seed(self, seed: int) -> "Scene":
        return replace(self, seed=seed)

    def renderer(self) -> "SceneRenderer":
        return SceneRenderer(self)


class SceneRenderer:
    """Renders frames of a scene at given times; holds the per-scene random state."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.subjects = [_subject(path) for path in scene.paths]
        rng = np.random.default_rng(scene.seed)
        self.phases = rng.uniform(0, 2 * math.pi, size=8)
        self.blinks = self._blink_times(rng)
        self.noise = [rng.normal(0.0, 2.5, (HEIGHT, WIDTH, 3)).astype(np.float32) for _ in range(7)]
        self.background = self._background()
        self.turn_maps = None
        self.frame_index = 0

    def _blink_times(self, rng: np.random.Generator) -> list[float]:
        """Blink start times: every 1.1 to 2.0 s, the first soon after the traveller settles."""
        times, t = [], APPROACH_SECONDS * self.scene.walks_up + rng.uniform(0.3, 0.8)
        while t < 3600:
            times.append(t)
            t += rng.uniform(1.1, 2.0)
        return times

    def _background(self) -> np.ndarray:
        ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        shade = 1.0 + 0.12 * (xs / WIDTH - 0.5) - 0.08 * (ys / HEIGHT - 0.5)
        return np.clip(np.array(BACKGROUND, np.float32) * shade[..., None], 0, 255)

    def render(self, t: float) -> np.ndarray:
        """The BGR frame at t seconds after the scene started."""
        scene = self.scene
        motion_t = t if scene.live else 0.0
        if not self.subjects:
            frame = self.background.copy()
        elif len(self.subjects) == 1:
            frame = self._draw(self.subjects[0], (WIDTH / 2, HEIGHT * 0.42), motion_t, t, 0)
        else:
            left = self._draw(self.subjects[0], (WIDTH * 0.3, HEIGHT * 0.42), motion_t, t, 0)
            right = self._draw(self.subjects[1], (WIDTH * 0.7, HEIGHT * 0.45), motion_t, t, 4)
            frame = np.concatenate([left[:, : WIDTH // 2], right[:, WIDTH // 2 :]], axis=1)
        if scene.turn_deg:
            frame = self._turned(frame)
        if scene.blur_sigma:
            frame = cv2.GaussianBlur(frame, (0, 0), scene.blur_sigma)
        frame = frame * scene.light
        if scene.screen:
            frame = self._on_screen(frame, t)
        frame = frame + self.noise[self.frame_index % len(self.noise)]
        self.frame_index += 1
        rgb = np.clip(frame, 0, 255).astype(np.uint8)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)

    def _draw(self, subject: _Subject, anchor, motion_t: float, t: float, phase_offset: int) -> np.ndarray:
        p = self.phases[phase_offset:] if phase_offset else self.phases
        size = self.scene.eye_distance
        if self.scene.walks_up:
            progress = min(t / APPROACH_SECONDS, 1.0)
            size *= 0.35 + 0.65 * (1 - (1 - progress) ** 2)
        # Standing still is never still: sway, nodding and breathing, a few pixels and a degree.
        dx = 1.6 * math.sin(2 * math.pi * 0.7 * motion_t + p[0]) + 0.7 * math.sin(2 * math.pi * 1.9 * motion_t + p[1])
        dy = 1.2 * math.sin(2 * math.pi * 0.5 * motion_t + p[2]) + 0.5 * math.sin(2 * math.pi * 1.3 * motion_t + p[3])
        angle = 0.8 * math.sin(2 * math.pi * 0.4 * motion_t + p[3])
        size *= 1.0 + 0.012 * math.sin(2 * math.pi * 0.3 * motion_t + p[0])
        scale = size / subject.eye_distance
        matrix = cv2.getRotationMatrix2D(tuple(map(float, subject.eye_center)), angle, scale)
        matrix[:, 2] += np.array(anchor, np.float64) + (dx, dy) - subject.eye_center
        frame = cv2.warpAffine(
            subject.photo, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT,
            dst=self.background.astype(np.uint8).copy(),
        ).astype(np.float32)
        closure = self._closure(t) if self.scene.live else 0.0
        if closure > 0:
            points = cv2.transform(subject.landmarks[None].astype(np.float64), matrix)[0]
            for eye in (points[36:42], points[42:48]):
                self._close_eye(frame, eye, closure, subject.skin)
        return frame

    def _closure(self, t: float) -> float:
        index = int(round(t * FPS))
        for start in self.blinks:
            offset = index - int(round(start * FPS))
            if 0 <= offset < len(BLINK_FRAMES):
                return BLINK_FRAMES[offset]
            if offset < 0:
                break
        return 0.0

    @staticmethod
    def _close_eye(frame: np.ndarray, eye: np.ndarray, closure: float, skin: np.ndarray) -> None:
        """Lower the upper eyelid: lid skin covers the opening down to a lash line that follows the lid.

        The lid's edge moves from the upper lid's outline to the lower lid's (closure 0 to 1), so a
        closed eye is a lash line whatever the opening was: a narrow eye (a smile) closes as fully as
        a wide one. The lid is the skin around the eye filled in over the opening (inpainted), not
        the skin above stretched down, whose creases would draw a second open eye over the first.
        """
        width = float(eye[3, 0] - eye[0, 0])
        if width <= 2:
            return
        pad = 0.08 * width  # the landmarks sit a pixel or two off the lid margin: cover its lashes too
        margin = int(np.ceil(3 * pad)) + 2  # skin around the opening for the fill to draw from
        x0, x1 = int(eye[0, 0]) - margin, int(eye[3, 0]) + margin + 1
        y0 = int(min(eye[1, 1], eye[2, 1])) - margin
        y1 = int(max(eye[4, 1], eye[5, 1])) + margin + 1
        if x0 < 0 or y0 < 0 or x1 > frame.shape[1] or y1 > frame.shape[0]:
            return
        xs = np.arange(x0, x1, dtype=np.float64)
        upper = np.interp(xs, eye[[0, 1, 2, 3], 0], eye[[0, 1, 2, 3], 1]) - pad
        lower = np.interp(xs, eye[[0, 5, 4, 3], 0], eye[[0, 5, 4, 3], 1]) + 0.5 * pad
        meet = upper + LIDS_MEET * (lower - upper)
        edge = upper + closure * (meet - upper)  # the upper lid comes down to where the lids meet...
        rising = lower + closure * (meet - lower)  # ...and the lower lid comes up to it
        inside = (xs >= eye[0, 0] - pad) & (xs <= eye[3, 0] + pad)
        ys = np.arange(y0, y1, dtype=np.float64)[:, None]
        opening = ((ys >= upper - 1) & (ys <= lower + 1) & inside).astype(np.uint8)
        patch = frame[y0:y1, x0:x1]
        lid = cv2.inpaint(np.clip(patch, 0, 255).astype(np.uint8), opening, 3, cv2.INPAINT_TELEA).astype(np.float32)
        upper_lid = np.clip(ys - upper + 0.5, 0.0, 1.0) * np.clip(edge - ys + 0.5, 0.0, 1.0)
        lower_lid = np.clip(ys - rising + 0.5, 0.0, 1.0) * np.clip(lower - ys + 0.5, 0.0, 1.0)
        cover = (np.maximum(upper_lid, lower_lid) * inside)[..., None]
        frame[y0:y1, x0:x1] = patch * (1 - cover) + lid * cover
        lash = np.stack([xs[inside], edge[inside]], axis=1)
        shade = np.median(lid[opening.astype(bool)], axis=0) * 0.35  # lashes: the lid's own colour, dark
        thickness = max(1, int(round(0.08 * width)))  # closed lashes are a band, not a hairline
        cv2.polylines(frame, [np.round(lash).astype(np.int32)], False, tuple(float(c) for c in shade), thickness,
                      cv2.LINE_AA)

    def _turned(self, frame: np.ndarray) -> np.ndarray:
        """The head turned about a vertical axis, drawn as a cylinder rotating in place."""
        if self.turn_maps is None:
            radius = WIDTH * 0.22
            axis = WIDTH / 2
            xs = np.arange(WIDTH, dtype=np.float32)
            angle = np.arcsin(np.clip((xs - axis) / radius, -1, 1)) - math.radians(self.scene.turn_deg)
            source = np.where(np.abs(xs - axis) < radius, axis + radius * np.sin(angle), xs).astype(np.float32)
            map_x = np.repeat(source[None, :], HEIGHT, axis=0)
            map_y = np.repeat(np.arange(HEIGHT, dtype=np.float32)[:, None], WIDTH, axis=1)
            self.turn_maps = (map_x, map_y)
        return cv2.remap(frame, *self.turn_maps, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def _on_screen(self, frame: np.ndarray, t: float) -> np.ndarray:
        """A display filmed by the camera: pixel-grid moire, refresh flicker, a bluish cast."""
        if not hasattr(self, "moire"):
            ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
            grid = np.cos(2 * math.pi * (xs * 0.96 + ys * 0.28) / 3.1) * np.cos(
                2 * math.pi * (ys * 0.97 - xs * 0.24) / 3.4
            )
            self.moire = (1.0 + 0.16 * grid)[..., None]
        flicker = 1.0 + 0.07 * math.sin(2 * math.pi * 4.7 * t)
        return frame * self.moire * flicker * np.array([0.95, 1.0, 1.08], np.float32)


def write_video(scene: Scene, path: str | Path, seconds: float, fps: float = FPS) -> Path:
    """Write the scene as a Motion-JPEG AVI file that cv2.VideoCapture (and Camera) can read."""
    path = Path(path)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise OSError(f"cannot write video {path}")
    renderer = scene.renderer()
    try:
        for index in range(int(round(seconds * fps))):
            writer.write(renderer.render(index / fps))
    finally:
        writer.release()
    return path


class CameraSimulator:
    """An MJPEG-over-HTTP camera on loopback; show() switches the scene while clients watch."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, fps: float = FPS, jpeg_quality: int = 88) -> None:
        self.fps = fps
        self.jpeg_quality = jpeg_quality
        self._condition = threading.Condition()
        self._jpeg: bytes | None = None
        self._sequence = 0
        self._running = False
        self._renderer = Scene.empty().renderer()
        self._scene_started = time.monotonic()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/stream.mjpg"

    @property
    def scene(self) -> Scene:
        return self._renderer.scene

    def start(self) -> "CameraSimulator":
        self._running = True
        self._threads = [
            threading.Thread(target=self._produce, name="camera-sim frames", daemon=True),
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def show(self, scene: Scene) -> None:
        renderer = scene.renderer()  # prepared outside the lock: loading a photo takes a moment
        with self._condition:
            self._renderer = renderer
            self._scene_started = time.monotonic()

    def stop(self) -> None:
        with self._condition:
            self._running = False
            self._condition.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=2.0)

    def __enter__(self) -> "CameraSimulator":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def next_jpeg(self, after: int, timeout: float = 1.0) -> tuple[int, bytes | None]:
        """The first frame newer than sequence `after` (None when stopped or on timeout)."""
        with self._condition:
            self._condition.wait_for(lambda: self._sequence > after or not self._running, timeout)
            if not self._running or self._sequence <= after:
                return after, None
            return self._sequence, self._jpeg

    def _produce(self) -> None:
        period = 1.0 / self.fps
        next_time = time.monotonic()
        while self._running:
            with self._condition:
                renderer, started = self._renderer, self._scene_started
            frame = renderer.render(time.monotonic() - started)
            ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            with self._condition:
                if ok:
                    self._jpeg = encoded.tobytes()
                    self._sequence += 1
                    self._condition.notify_all()
            next_time += period
            delay = next_time - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_time = time.monotonic()  # fell behind: drop frames rather than burst


def _handler_for(simulator: CameraSimulator):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] == "/stream.mjpg":
                self._stream()
            elif self.path.split("?")[0] == "/snapshot.jpg":
                _, jpeg = simulator.next_jpeg(simulator._sequence - 1)
                self._send(200, "image/jpeg", jpeg or b"")
            else:
                self._send(404, "text/plain", b"not found: try /stream.mjpg\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            sequence = 0
            try:
                while True:
                    sequence, jpeg = simulator.next_jpeg(sequence)
                    if jpeg is None:
                        if not simulator._running:
                            return
                        continue
                    self.wfile.write(
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                        + jpeg + b"\r\n"
                    )
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the viewer went away

        def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's signature)
            pass  # a stream logs one line per client; keep test output clean

    return Handler


SCENES = ["portrait", "approach", "close_up", "empty", "poor_light", "blur", "looking_away", "two_faces",
          "print_attack", "replay_attack"]


def scene_named(name: str, photos: list[str]) -> Scene:
    """Build a scene by its name from one photo (two for two_faces, none for empty)."""
    if name not in SCENES:
        raise ValueError(f"unknown scene {name!r}: one of {', '.join(SCENES)}")
    needed = {"empty": 0, "two_faces": 2}.get(name, 1)
    if len(photos) != needed:
        raise ValueError(f"scene {name} needs {needed} photo(s), got {len(photos)}")
    return getattr(Scene, name)(*photos)


def main(argv: list[str] | None = None) -> int:
    """Serve a scene on loopback, or write it to a video file: python -m hardware_sim.camera --help."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m hardware_sim.camera", description=main.__doc__)
    parser.add_argument("scene", choices=SCENES)
    parser.add_argument("photos", nargs="*", help="face photo(s) the scene is built from")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--video", help="write this many --seconds to an MJPG AVI file instead of serving")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    try:
        scene = scene_named(args.scene, args.photos)
        scene.renderer()  # fail now, not in the frame thread, when a photo has no face
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    if args.video:
        print(write_video(scene, args.video, args.seconds))
        return 0
    sim = CameraSimulator(port=args.port).start()
    sim.show(scene)
    print(sim.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        sim.stop()


if __name__ == "__main__":
    raise SystemExit(main())
