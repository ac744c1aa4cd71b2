"""The emulator over TLS: trusted through pagerduty_ca_bundle, and a clear, unretried error
naming the setting when the certificate is not trusted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cockpit.integrations.pagerduty_emulator import start_emulator


def _sync(data: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "--data-dir", str(data), "sync"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_sync_over_tls_needs_the_ca_bundle_and_says_so(tmp_path: Path) -> None:
    with start_emulator(tls=True, incidents=20, days=5) as emulator:
        assert emulator.url.startswith("https://") and emulator.cert_path is not None
        env = {"COCKPIT_PAGERDUTY_URL": emulator.url, "COCKPIT_PAGERDUTY_TOKEN": emulator.token}
        refused = _sync(tmp_path, env)
        assert refused.returncode == 1
        assert "not trusted" in refused.stderr and "pagerduty_ca_bundle" in refused.stderr
        assert emulator.token not in refused.stderr + refused.stdout
        requests_when_refused = emulator.state.request_count
        assert requests_when_refused == 0  # the handshake failed: nothing was retried into it

        trusted = _sync(tmp_path, {**env, "COCKPIT_PAGERDUTY_CA_BUNDLE": str(emulator.cert_path)})
        assert trusted.returncode == 0, trusted.stderr
        assert "20 incidents" in trusted.stdout
