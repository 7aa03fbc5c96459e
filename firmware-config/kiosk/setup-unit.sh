#!/usr/bin/env bash
# Prepare a Raspberry Pi OS Lite (Bookworm) unit as a Hài Lòng kiosk. Run as root on the Pi:
#   sudo bash setup-unit.sh /path/to/device.toml
# The device.toml is the one in the device's bundle (POST /api/v1/devices/<id>/bundle).
set -euo pipefail
config="${1:?usage: setup-unit.sh DEVICE_TOML}"
here="$(cd "$(dirname "$0")/.." && pwd)"

apt-get update
apt-get install -y python3-venv python3-lgpio fonts-dejavu-core libsdl2-2.0-0 libsdl2-ttf-2.0-0

id hailong >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/hailong \
    --groups video,render,input,gpio,audio hailong

python3 -m venv --system-site-packages /opt/hailong/venv
/opt/hailong/venv/bin/pip install --upgrade "hailong[device]"

install -d -m 0750 -o root -g hailong /etc/hailong
install -m 0640 -o root -g hailong "$config" /etc/hailong/device.toml
install -m 0644 "$here/systemd/hailong-device.service" /etc/systemd/system/

# Screen blanking off: the console would otherwise blank after 10 minutes.
if ! grep -q consoleblank=0 /boot/firmware/cmdline.txt; then
    sed -i '1 s/$/ consoleblank=0/' /boot/firmware/cmdline.txt
fi
# No login prompt on the screen the citizen sees.
systemctl disable --now getty@tty1.service || true

systemctl daemon-reload
systemctl enable --now hailong-device.service
echo "Unit ready: journalctl -u hailong-device -f shows its log. Reboot once to apply consoleblank=0."
