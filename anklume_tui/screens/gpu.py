"""GPUs (SPEC §10.6): one block per GPU with a live VRAM bar, utilisation, the instances holding it and VRAM
per process; the infra's GPU policy and a warning when the real holders break it. Read every 2 s in a
worker, only while the screen is shown."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from ..engine.host import GpuView, NvidiaSmiError, read_gpu_view
from ..engine.incus import IncusError, IncusUrlError, connect
from ..widgets.gpu_block import GpuBlock

REFRESH_SECONDS = 2.0


class GpuScreen(Screen):
    DEFAULT_CSS = """
    GpuScreen #gpu-summary { padding: 0 1; }
    GpuScreen #gpu-policy { padding: 0 1; margin: 0 0 1 0; }
    GpuScreen #gpu-policy.broken { color: $warning; text-style: bold; }
    """
    BINDINGS = [
        Binding("r", "refresh", "Refresh now", id="gpu.refresh"),
        Binding("escape", "back", "Back", id="gpu.back"),
    ]

    class Read(Message):
        def __init__(self, view: GpuView) -> None:
            super().__init__()
            self.view = view

    class Problem(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, incus_url: str | None, policy: str | None) -> None:
        super().__init__()
        self.incus_url = incus_url
        self.policy = policy or "exclusive"  # the infra's default when it could not be read
        self.view: GpuView | None = None
        self.reads = 0
        self._reader: Worker | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading GPUs (nvidia-smi, Incus) …", id="gpu-summary", markup=False)
        yield Static(f"GPU policy: {self.policy}", id="gpu-policy", markup=False)
        yield VerticalScroll(id="gpu-list")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "GPUs"
        self._timer = self.set_interval(REFRESH_SECONDS, self._refresh)
        self._refresh()

    def on_screen_suspend(self) -> None:
        self._timer.pause()

    def on_screen_resume(self) -> None:
        self._timer.resume()

    def _refresh(self) -> None:
        if self._reader is None or self._reader.is_finished:
            self._reader = self.read_gpus()

    @work(thread=True, group="gpu")
    async def read_gpus(self) -> None:
        """nvidia-smi and Incus both block: in a thread, with its own event loop."""
        try:
            async with connect(self.incus_url) as client:
                view = await read_gpu_view(client, self.policy)
        except NvidiaSmiError as exc:
            self.post_message(self.Problem(f"nvidia-smi fails: {exc} (is the NVIDIA driver loaded?)"))
            return
        except (IncusUrlError, IncusError) as exc:
            self.post_message(self.Problem(f"Incus: {exc}"))
            return
        self.post_message(self.Read(view))

    def on_gpu_screen_problem(self, message: Problem) -> None:
        self.reads += 1
        self.query_one("#gpu-summary", Static).update(message.text)

    async def on_gpu_screen_read(self, message: Read) -> None:
        self.reads += 1
        self.view = view = message.view
        self.query_one("#gpu-summary", Static).update(view.sentence)
        policy = self.query_one("#gpu-policy", Static)
        held = ", ".join(view.holders) or "none"
        policy.update(view.policy_warning or f"GPU policy: {view.policy}; instances with a gpu device: {held}")
        policy.set_class(view.policy_warning is not None, "broken")
        listing = self.query_one("#gpu-list", VerticalScroll)
        blocks = list(listing.query(GpuBlock))
        if len(blocks) != len(view.report.gpus):  # the same GPUs are updated in place: no flicker
            await listing.remove_children()
            blocks = [GpuBlock() for _ in view.report.gpus]
            await listing.mount_all(blocks)
        for block, gpu in zip(blocks, view.report.gpus, strict=True):
            block.show(gpu, view.utilisation.get(gpu.index))

    def action_refresh(self) -> None:
        self._refresh()

    def action_back(self) -> None:
        self.app.pop_screen()
