#!/bin/sh
# The daemons run as their own system user; the config may hold secrets, so
# only root and that group read it. The units are not enabled: edit
# /etc/failwatch/config.yaml first.
set -e
if ! getent group failwatch >/dev/null; then
  groupadd --system failwatch
fi
if ! getent passwd failwatch >/dev/null; then
  useradd --system --gid failwatch --home-dir /var/lib/failwatch --no-create-home \
    --shell /usr/sbin/nologin --comment "failwatch daemons" failwatch
fi
chgrp failwatch /etc/failwatch /etc/failwatch/config.yaml
chmod 0750 /etc/failwatch
chmod 0640 /etc/failwatch/config.yaml
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
echo "failwatch: edit /etc/failwatch/config.yaml, then: systemctl enable --now failwatch-exporter (or failwatch-serve)"
