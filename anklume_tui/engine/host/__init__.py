"""The host itself: paths (XDG), host context, doctor, GPUs, metrics and usage, telemetry, the live view feed,
the apply lock and private files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import exports_on_first_use

if TYPE_CHECKING:
    from .apply_lock import ApplyLocked
    from .doctor import run_doctor
    from .gpu import NvidiaSmiError, gather_gpu_report
    from .gpu_view import GpuView, read_gpu_view
    from .hostinfo import gather_host_context
    from .live import InstanceChange, live_status
    from .metrics import MetricsHistory, MetricsReading, MetricsSampler
    from .paths import (
        backups_dir,
        bundled_example,
        examples_dir,
        state_dir,
        telemetry_log_file,
        tmux_last_domain_file,
        user_keymap_file,
        user_themes_dir,
        window_manager_config_file,
    )
    from .telemetry import (
        clear_telemetry,
        disable_telemetry,
        enable_telemetry,
        recorded_call,
        recorded_run,
    )
    from .usage import InstanceKey, Usage, UsageMeter
    from .usage_log import telemetry_summary
else:
    __getattr__ = exports_on_first_use(
        __name__,
        {
            "apply_lock": ["ApplyLocked"],
            "doctor": ["run_doctor"],
            "gpu": ["NvidiaSmiError", "gather_gpu_report"],
            "gpu_view": ["GpuView", "read_gpu_view"],
            "hostinfo": ["gather_host_context"],
            "live": ["InstanceChange", "live_status"],
            "metrics": ["MetricsHistory", "MetricsReading", "MetricsSampler"],
            "paths": [
                "backups_dir",
                "bundled_example",
                "examples_dir",
                "state_dir",
                "telemetry_log_file",
                "tmux_last_domain_file",
                "user_keymap_file",
                "user_themes_dir",
                "window_manager_config_file",
            ],
            "telemetry": [
                "clear_telemetry",
                "disable_telemetry",
                "enable_telemetry",
                "recorded_call",
                "recorded_run",
            ],
            "usage": ["InstanceKey", "Usage", "UsageMeter"],
            "usage_log": ["telemetry_summary"],
        },
    )

__all__ = [
    "ApplyLocked",
    "GpuView",
    "InstanceChange",
    "InstanceKey",
    "MetricsHistory",
    "MetricsReading",
    "MetricsSampler",
    "NvidiaSmiError",
    "Usage",
    "UsageMeter",
    "backups_dir",
    "bundled_example",
    "clear_telemetry",
    "examples_dir",
    "disable_telemetry",
    "enable_telemetry",
    "gather_gpu_report",
    "gather_host_context",
    "live_status",
    "read_gpu_view",
    "recorded_call",
    "recorded_run",
    "run_doctor",
    "state_dir",
    "telemetry_log_file",
    "telemetry_summary",
    "tmux_last_domain_file",
    "user_keymap_file",
    "user_themes_dir",
    "window_manager_config_file",
]
