"""``shigu enhance``: brighten low-light images, folders and videos."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from shigu.cli._common import check_writable_folder, console, progress_bar, progress_option
from shigu.core.errors import InputError

HELP = """Enhance low-light images and videos.

INPUT is an image, a folder or glob of images, or a video. Results go to --out DIR under the
same file names (videos re-encoded as H.264 in the same container name). Methods:

  auto      enhance only dark frames (mean luma below 0.25) with lyt-fast; others untouched
  lyt-fast  LYT-Net (LOL-v2) re-shaped to 192x144, upsampled: 22.2 dB / 0.81 SSIM on the
            shared LOL pairs, ~19 ms per 600x400 image
  lyt       LYT-Net (LOL-v1) at 640x360: 23.0 dB / 0.88, ~300 ms
  sci       SCI at full size: fast (~10 ms) but dim: 16.3 dB / 0.55
  gamma     gamma taking mean luma to 0.5, after a bilateral denoise: 18.3 dB / 0.79, ~3 ms
  clahe     contrast-limited equalisation of L in Lab (no brightening): 10.0 dB / 0.45

Videos keep their brightness steady from frame to frame (no flicker). The same enhancement
runs before detection in `shigu run` with pipeline.stages: [{use: enhance}].

Examples:

  shigu enhance night.jpg --out bright/

  shigu enhance 'frames/*.png' --out bright/ --method gamma

  shigu enhance parking_night.mp4 --out bright/
"""


def enhance(
    source: str = typer.Argument(..., metavar="INPUT", help="Image, folder, glob or video."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the results (same names)."),
    method: str = typer.Option(
        "auto", "--method", "-m", help="auto, lyt-fast, lyt, sci, gamma or clahe."
    ),
    progress: bool = progress_option(),
) -> None:
    from shigu.solutions.lowlight.enhance import METHODS, make_enhancer
    from shigu.sources.images import IMAGE_EXTENSIONS, is_glob, list_images

    if method not in METHODS:
        raise InputError(f"--method {method!r} is unknown", f"choose {', '.join(METHODS)}")
    path = Path(source)
    is_images = is_glob(source) or path.is_dir() or path.suffix.lower() in IMAGE_EXTENSIONS
    if not is_images and not path.exists() and "://" not in source:
        raise InputError(f"not found: {source}", "check the file, folder or pattern")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file", "give a folder for the results")
    check_writable_folder(out)
    enhancer = make_enhancer(method)
    if is_images:
        from shigu.core.errors import SourceError

        try:
            paths = list_images(source)
        except SourceError as exc:
            raise InputError(exc.one_line()) from None
        _images(enhancer, paths, out, progress)
    else:
        _video(enhancer, source, out, progress)
    from shigu.solutions.lowlight.enhance import AutoEnhancer

    if isinstance(enhancer, AutoEnhancer):
        console.print(f"auto: {enhancer.enhanced} dark, enhanced; {enhancer.passed} well lit, "
                      "left as they were", highlight=False)  # fmt: skip


def _images(enhancer: object, paths: list[Path], out: Path, progress: bool) -> None:
    from shigu.io.image_writer import ImageFolderWriter
    from shigu.sources.images import read_image

    writer = ImageFolderWriter(out, paths)
    bad = 0
    with progress_bar("enhance", len(paths), progress) as bar:
        for p in paths:
            image = read_image(p)
            if image is None:
                bad += 1
                console.print(f"[yellow]unreadable:[/] {escape(str(p))}")
            else:
                result = enhancer(image)  # type: ignore[operator]
                if result is image:  # auto left it alone: the file itself, not a re-encoding
                    import shutil

                    target = writer.names[p]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(p, target)
                else:
                    writer.write(p, result)
            bar.advance(1)
    done = len(paths) - bad
    console.print(f"enhanced {done} image(s) into {out}" + (f"; {bad} unreadable" if bad else ""),
                  highlight=False)  # fmt: skip
    if bad and not done:
        raise typer.Exit(3)


def _video(enhancer: object, source: str, out: Path, progress: bool) -> None:
    from shigu.io.video_writer import VideoWriter
    from shigu.solutions.lowlight.enhance import SteadyBrightness
    from shigu.sources.open import open_source

    src = open_source(source)
    name = Path(source.split("?", 1)[0]).name or "stream.mp4"
    target = out / (name if Path(name).suffix.lower() in (".mp4", ".mkv", ".mov") else
                    Path(name).stem + ".mp4")  # fmt: skip
    steady = SteadyBrightness()
    frames = 0
    writer = VideoWriter(target, fps=src.output_fps or src.info.fps or 25.0)
    try:
        with progress_bar("enhance", src.info.frame_count or None, progress) as bar:
            for frame in src:
                image = frame.image
                writer.write(steady(image, enhancer(image)))  # type: ignore[operator]
                frames += 1
                bar.advance(1)
    finally:
        src.close()
        writer.close()
    console.print(f"enhanced {frames} frame(s) into {target}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("enhance", help=HELP, no_args_is_help=True)(enhance)
