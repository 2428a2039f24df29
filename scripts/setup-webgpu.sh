#!/usr/bin/env bash
# WebGPU without a GPU: Dawn (Node) and Chromium both use the SwiftShader Vulkan driver that Debian's
# chromium package ships, through the system Vulkan loader (libvulkan1). Installs them when missing.
set -euo pipefail
ICD=/usr/lib/chromium/vk_swiftshader_icd.json
if [ -f "$ICD" ] && [ -x /usr/bin/chromium ] && ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-webgpu: need root (or sudo) to apt-get install chromium libvulkan1" >&2
    exit 1
  fi
fi
echo "setup-webgpu: installing Debian's chromium (SwiftShader Vulkan driver) and libvulkan1 …" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium libvulkan1 >/dev/null
test -f "$ICD" || { echo "setup-webgpu: $ICD still missing after install" >&2; exit 1; }
