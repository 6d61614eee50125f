"""The galleries of one matcher process, each in its own directory under data_dir/galleries."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

from matcher.config import GalleryConfig
from matcher.errors import AlreadyExists, NotFound
from matcher.gallery import Gallery


class Registry:
    def __init__(self, data_dir: Path, **gallery_options):
        self.root = Path(data_dir) / "galleries"
        self.root.mkdir(parents=True, exist_ok=True)
        self._options = gallery_options
        self._lock = threading.Lock()
        self._galleries: dict[str, Gallery] = {}
        for directory in sorted(self.root.iterdir()):
            if (directory / "config.json").exists():
                gallery = Gallery.open(directory, **gallery_options)
                self._galleries[gallery.config.name] = gallery

    def create(self, config: GalleryConfig) -> tuple[Gallery, bool]:
        """The gallery and whether it was created now; AlreadyExists if it differs from `config`."""
        with self._lock:
            existing = self._galleries.get(config.name)
            if existing is not None:
                if existing.config != config:
                    raise AlreadyExists(f"gallery: {config.name!r} exists with another configuration "
                                        f"({existing.config})")
                return existing, False
            directory = self.root / config.name
            if directory.exists():  # a creation that crashed before its config.json was written
                shutil.rmtree(directory)
            gallery = Gallery.create(config, directory, **self._options)
            self._galleries[config.name] = gallery
            return gallery, True

    def get(self, name: str) -> Gallery:
        gallery = self._galleries.get(name)
        if gallery is None:
            raise NotFound(f"gallery: {name!r} does not exist")
        return gallery

    def all(self) -> list[Gallery]:
        return sorted(self._galleries.values(), key=lambda g: g.config.name)

    def close(self) -> None:
        for gallery in self.all():
            gallery.close()
