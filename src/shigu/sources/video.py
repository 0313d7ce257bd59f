"""Video files, network streams and webcams, decoded by FFmpeg through PyAV.

One class covers every URI FFmpeg opens. Files are read once, to the end; live sources
(RTSP/RTMP/UDP/SRT, HTTP without a known length, webcams) reconnect with exponential backoff
when the peer goes away, and keep frame indices and timestamps monotonic across reconnects.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import av.error

from shigu.core.errors import SourceError, SourceTruncatedError
from shigu.core.frame import DecodedFrame, Frame
from shigu.sources.base import Source, SourceInfo

log = logging.getLogger(__name__)

NETWORK_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "srt", "tcp", "rtp")
LIVE_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "udp", "srt", "tcp", "rtp")


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0].lower() if "://" in uri else ""


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # PyAV errors look like "[Errno 1094995529] Invalid data found when processing input: 'x'"
    if text.startswith("[Errno"):
        text = text.split("] ", 1)[-1]
    return text.split(": '")[0]


class VideoSource(Source):
    """Frames from anything FFmpeg reads: a file, a stream URL or a V4L2 device.

    Args:
        uri: path or URL (``rtsp://``, ``rtmp://``, ``http(s)://``, ``/dev/video0``, ...).
        source_id: name carried on every frame.
        live: whether the source is endless and should reconnect; guessed from the URI
            and, for HTTP, from whether the server reports a duration.
        open_timeout_s: how long connecting may take before it is an error.
        read_timeout_s: how long a read may stall before the stream counts as lost.
        reconnect: reconnect live sources after they drop (with backoff).
        max_reconnect_s: give up after this long without a frame (None: never give up).
        retry_initial: also retry when the very first connection fails (for services).
        format: FFmpeg input format (``v4l2`` for webcams), None to probe.
        options: extra FFmpeg demuxer options.
        decode_threads: let FFmpeg decode with frame/slice threads.
    """

    def __init__(
        self,
        uri: str,
        source_id: str = "0",
        *,
        stride: int = 1,
        target_fps: float | None = None,
        live: bool | None = None,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 10.0,
        reconnect: bool = True,
        max_reconnect_s: float | None = None,
        retry_initial: bool = False,
        format: str | None = None,
        options: dict[str, str] | None = None,
        decode_threads: bool = True,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
    ) -> None:
        super().__init__(source_id, stride, target_fps)
        self.uri = uri
        self.scheme = _scheme(uri)
        self.is_network = self.scheme in NETWORK_SCHEMES
        self.is_device = format == "v4l2" or uri.startswith("/dev/video")
        self.format = "v4l2" if self.is_device and format is None else format
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self.reconnect = reconnect
        self.max_reconnect_s = max_reconnect_s
        self.retry_initial = retry_initial
        self.decode_threads = decode_threads
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.options = self._default_options() | dict(options or {})
        if not self.is_network and not self.is_device:
            path = Path(uri)
            if not path.exists():
                raise SourceError(f"file not found: {uri}", "check the path")
            if path.is_dir():
                raise SourceError(
                    f"{uri} is a folder, not a video",
                    "pass a video file, or a folder of images as images:DIR",
                )
        self._container: Any = None
        self._container = self._open_with_retry() if retry_initial else self._open()
        stream = self._container.streams.video[0]
        # av_guess_frame_rate, as the ffmpeg CLI uses: AVI files that declare 50 fps for 25 fps
        # content with dropped-frame placeholders report the real rate here
        rate = stream.guessed_rate or stream.average_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        duration_s = self._duration_s(self._container, stream)
        if live is None:
            live = (
                self.scheme in LIVE_SCHEMES
                or self.is_device
                or (self.is_network and duration_s is None)
            )
        frames = int(stream.frames) if stream.frames else None
        if (
            duration_s
            and fps
            and not live
            and (frames is None or abs(frames - duration_s * fps) > 0.1 * frames)
        ):
            frames = round(duration_s * fps)
        kind = "webcam" if self.is_device else ("stream" if self.is_network else "file")
        self.info = SourceInfo(
            uri=uri,
            kind=kind,
            width=int(stream.codec_context.width or 0),
            height=int(stream.codec_context.height or 0),
            fps=fps,
            frame_count=None if live else frames,
            live=live,
            extra={
                "codec": stream.codec_context.name or "",
                "container": self._container.format.name or "",
            },
        )
        self._duration = duration_s
        self.live = live
        self._damaged = False

    # ------------------------------------------------------------------ opening
    def _default_options(self) -> dict[str, str]:
        if self.scheme in ("rtsp", "rtsps"):
            # probe ~1 s of stream instead of FFmpeg's 5 s so a camera opens quickly
            return {"rtsp_transport": "tcp", "analyzeduration": "1000000", "probesize": "1000000"}
        if self.scheme in ("http", "https"):
            return {"reconnect": "1", "reconnect_on_network_error": "1", "reconnect_delay_max": "4"}
        return {}

    def _open(self) -> Any:
        try:
            container = av.open(
                self.uri,
                mode="r",
                format=self.format,
                options=self.options,
                timeout=(self.open_timeout_s, self.read_timeout_s),
            )
        except FileNotFoundError as exc:
            raise SourceError(
                f"cannot open {self.uri}: {_short(exc)}", "check the path or device"
            ) from exc
        except av.error.ExitError as exc:
            raise SourceError(
                f"cannot connect to {self.uri}: timed out after {self.open_timeout_s:g} s",
                "check the address and that the server is up",
            ) from exc
        except (av.error.FFmpegError, OSError) as exc:
            what = "connect to" if self.is_network else "open"
            hint = (
                "check the address and that the server is up"
                if self.is_network
                else "is it a video file FFmpeg can read? (a truncated MP4 without its index "
                "cannot be opened)"
            )
            raise SourceError(f"cannot {what} {self.uri}: {_short(exc)}", hint) from exc
        if not container.streams.video:
            container.close()
            raise SourceError(f"{self.uri} has no video stream", "pass a video file or stream")
        stream = container.streams.video[0]
        if self.decode_threads:
            stream.thread_type = "AUTO"
        return container

    def _open_with_retry(self) -> Any:
        delay = self.backoff_initial_s
        started = time.monotonic()
        while True:
            try:
                return self._open()
            except SourceError as exc:
                self.stats.last_error = exc.one_line()
                waited = time.monotonic() - started
                if self._closed or (
                    self.max_reconnect_s is not None and waited + delay > self.max_reconnect_s
                ):
                    raise
                log.warning(
                    "source %s: %s; retrying in %.1f s", self.source_id, exc.one_line(), delay
                )
                self._sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._closed and time.monotonic() < end:
            time.sleep(min(0.05, end - time.monotonic()))

    @staticmethod
    def _duration_s(container: Any, stream: Any) -> float | None:
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        if container.duration:
            return float(container.duration) / 1_000_000
        return None

    # ------------------------------------------------------------------ decoding
    def _decoded(self, container: Any) -> Iterator[tuple[Any, float | None]]:
        """Decoded frames with their presentation time in seconds (None when unknown).

        Some containers (AVI) carry no real PTS: the demuxer invents them in decode order, so
        frames come out with permuted PTS but monotonic DTS. Like FFmpeg's
        ``best_effort_timestamp``, count how often each clock goes backwards and trust the one
        that faults less; files get a short look-ahead so their first frames are right too.
        """
        stream = container.streams.video[0]
        tb = stream.time_base
        frames = self._decode_packets(container, stream)
        head: list[Any] = []
        head_error: BaseException | None = None
        use_dts = False
        if not self.live:
            try:
                for av_frame in frames:
                    head.append(av_frame)
                    if len(head) >= 16:
                        break
            except (av.error.FFmpegError, OSError) as exc:
                head_error = exc  # hand over what was decoded, then report
            use_dts = _faults([f.pts for f in head]) > _faults([f.dts for f in head])
        faulty_pts = faulty_dts = 0
        last_pts = last_dts = None
        rest: Iterator[Any] = iter(()) if head_error is not None else frames
        for av_frame in _chain(head, rest):
            pts, dts = av_frame.pts, av_frame.dts
            if self.live:
                if pts is not None and last_pts is not None and pts <= last_pts:
                    faulty_pts += 1
                if dts is not None and last_dts is not None and dts <= last_dts:
                    faulty_dts += 1
                last_pts, last_dts = pts, dts
                use_dts = faulty_pts > faulty_dts
            value = dts if use_dts else pts
            if value is None:
                value = pts if dts is None else dts
            yield av_frame, (float(value * tb) if value is not None and tb is not None else None)
        if head_error is not None:
            raise head_error

    def _decode_packets(self, container: Any, stream: Any) -> Iterator[Any]:
        """Decode packet by packet: a damaged packet is skipped and counted, not fatal.

        Demuxing errors (the container itself is cut or broken) still end the stream.
        """
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError as exc:
                self.stats.decode_errors += 1
                self.stats.last_error = _short(exc)
                self._damaged = True
                continue
            yield from decoded

    def _frame_step(self) -> float:
        """One frame's duration for invented timestamps; 25 fps when the rate is implausible."""
        fps = self.info.fps
        return 1.0 / fps if fps and 0.5 <= fps <= 1000 else 0.04

    def _frames(self) -> Iterator[Frame]:
        index = 0
        last_ts = -1.0
        wall_start: float | None = None
        container = self._container
        while not self._closed:
            if container is None:
                container = self._reconnect()
                self.stats.reconnects += 1
            base_ts: float | None = None
            conn_offset = 0.0
            if index > 0 and wall_start is not None:
                # after a reconnect, continue the clock from wall time so timestamps stay monotonic
                conn_offset = max(last_ts + 1e-3, time.monotonic() - wall_start)
            error: BaseException | None = None
            try:
                for av_frame, pts_s in self._decoded(container):
                    if self._closed:
                        break
                    if pts_s is not None:
                        if base_ts is None:
                            base_ts = pts_s
                        ts = pts_s - base_ts + conn_offset
                    elif last_ts < 0:
                        ts = conn_offset
                    else:
                        ts = last_ts + self._frame_step()
                    ts = round(ts, 6)
                    if ts <= last_ts:  # repair repeated or backwards timestamps
                        ts = round(last_ts + self._frame_step(), 6)
                    if wall_start is None:
                        wall_start = time.monotonic() - ts
                    self.stats.frames_decoded += 1  # pixels made on first use (DecodedFrame)
                    yield DecodedFrame(av_frame, index, ts, self.source_id)
                    index += 1
                    last_ts = ts
            except (av.error.FFmpegError, OSError) as exc:
                error = exc
                self.stats.decode_errors += 1
                self.stats.last_error = _short(exc)
            finally:
                with contextlib.suppress(Exception):  # a broken stream must not mask the cause
                    container.close()
                container = None
                self._container = None
            if self._closed:
                return
            if not self.live or not self.reconnect:
                self._check_complete(index, last_ts, error)
                return
            log.warning(
                "source %s: stream ended (%s); reconnecting",
                self.source_id,
                _short(error) if error else "end of stream",
            )

    def _reconnect(self) -> Any:
        delay = self.backoff_initial_s
        started = time.monotonic()
        while True:
            self._sleep(delay)
            if self._closed:
                raise SourceError(f"source {self.source_id} closed while reconnecting")
            try:
                container = self._open()
                log.info("source %s: reconnected to %s", self.source_id, self.uri)
                return container
            except SourceError as exc:
                self.stats.last_error = exc.one_line()
                waited = time.monotonic() - started
                if self.max_reconnect_s is not None and waited >= self.max_reconnect_s:
                    raise SourceError(
                        f"lost {self.uri} and could not reconnect within "
                        f"{self.max_reconnect_s:g} s: {exc.message}",
                        "check that the server is up",
                    ) from exc
                log.warning(
                    "source %s: reconnect failed (%s); retrying in %.1f s",
                    self.source_id,
                    exc.message,
                    delay,
                )
                delay = min(delay * 2, self.backoff_max_s)

    def _check_complete(self, frames: int, last_ts: float, error: BaseException | None) -> None:
        """Raise ``SourceTruncatedError`` when a file ended before its declared length."""
        if self.is_network and not error:
            return
        fps = self.info.fps or 25.0
        expected_end = self._duration
        short_by_time = (
            expected_end is not None
            and last_ts >= 0
            and last_ts < expected_end - max(0.5, 5.0 / fps)
        )
        declared = self.info.frame_count
        short_by_count = bool(declared) and frames < 0.97 * (declared or 0)
        riff = None if self.is_network else _riff_shortfall(self.uri)
        if riff is not None and error is None:
            # an AVI cut short loses its index, so FFmpeg's duration shrinks to what is left
            # and every time-based check passes; the RIFF header still says how long it was
            error = SourceError(f"the file is {riff[0]} of the {riff[1]} bytes its header declares")
        if frames == 0 and error is not None:
            raise SourceError(
                f"cannot decode {self.uri}: {_short(error)}",
                "the file may be corrupt or use a codec FFmpeg lacks",
            )
        if error is not None or short_by_time or (short_by_count and expected_end is None):
            size = (
                os.path.getsize(self.uri) if not self.is_network and os.path.exists(self.uri) else 0
            )
            why = _short(error) if error else "the file ends early"
            total = f" of {expected_end:.1f} s" if expected_end and riff is None else ""
            raise SourceTruncatedError(
                f"{self.uri} is truncated or damaged ({why}): decoded {frames} frames, "
                f"stopped at {max(last_ts, 0):.2f} s{total}" + (f" ({size} bytes)" if size else ""),
                "the readable part was processed; re-copy or re-record the file for the rest",
                frames_read=frames,
                stopped_at_s=max(last_ts, 0.0),
            )

    def close(self) -> None:
        super().close()
        container, self._container = self._container, None
        if container is not None:
            with contextlib.suppress(Exception):
                container.close()


def _riff_shortfall(path: str) -> tuple[int, int] | None:
    """(actual, declared) size of a RIFF (AVI) file shorter than its header says, else None."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"AVI ":
        return None
    declared = int.from_bytes(head[4:8], "little") + 8
    return (size, declared) if size < declared else None


def _faults(values: list[int | None]) -> int:
    """How many times a clock fails to increase (None counts as a fault)."""
    faults = 0
    last: int | None = None
    for v in values:
        if v is None or (last is not None and v <= last):
            faults += 1
        if v is not None:
            last = v
    return faults


def _chain(head: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from head
    yield from rest
