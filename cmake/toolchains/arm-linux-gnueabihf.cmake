# Cross-compile for 32-bit Raspberry Pi OS (armhf) with Debian's cross toolchain:
#   apt-get install gcc-arm-linux-gnueabihf qemu-user   (scripts/deps/cross-node.txt)
#   dpkg --add-architecture armhf && apt-get update
#   apt-get install libssl-dev:armhf zlib1g-dev:armhf libconfig-dev:armhf \
#     libjansson-dev:armhf libusb-1.0-0-dev:armhf libcmocka-dev:armhf
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake
# Note: Debian armhf is ARMv7; the Pi Zero/1 (ARMv6) need Raspberry Pi OS's own toolchain.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(PIPROV_CROSS_TRIPLET arm-linux-gnueabihf)
include("${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake")
