# Cross-compile for 64-bit Raspberry Pi OS (arm64) with Debian's cross toolchain:
#   apt-get install gcc-aarch64-linux-gnu qemu-user   (scripts/deps/cross-node.txt)
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install libssl-dev:arm64 zlib1g-dev:arm64 libconfig-dev:arm64 \
#     libjansson-dev:arm64 libusb-1.0-0-dev:arm64 libcmocka-dev:arm64
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# Tests then run under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR); see docs/node.md.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(PIPROV_CROSS_TRIPLET aarch64-linux-gnu)
include("${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake")
