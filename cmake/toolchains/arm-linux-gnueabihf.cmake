# Cross-compile for 32-bit Raspberry Pi OS (armhf) with Debian's cross toolchain:
#   apt-get install gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user
#     (scripts/deps/cross-node.txt)
# and the target's libraries, either unpacked into a sysroot (what scripts/cross-node armhf
# does: dpkg -x of libssl-dev libssl3 zlib1g-dev zlib1g libconfig-dev libconfig9
# libjansson-dev libjansson4 libusb-1.0-0-dev libusb-1.0-0 libudev1 libcmocka-dev libcmocka0)
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake \
#     -DPIPROV_TARGET_SYSROOT=$PWD/build-armhf/sysroot
# or installed multiarch (their versions must then equal the host's -dev packages'):
#   dpkg --add-architecture armhf && apt-get update
#   apt-get install libssl-dev:armhf zlib1g-dev:armhf libconfig-dev:armhf \
#     libjansson-dev:armhf libusb-1.0-0-dev:armhf libcmocka-dev:armhf
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake
# Note: Debian armhf is ARMv7; the Pi Zero/1 (ARMv6) need Raspberry Pi OS's own toolchain.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(PIPROV_CROSS_TRIPLET arm-linux-gnueabihf)
# 64-bit file offsets and inode numbers: with 32-bit ones readdir() fails with EOVERFLOW
# when the file system hands out 64-bit directory cookies (ext4 to a 64-bit kernel's native
# callers, as under qemu-user on a 64-bit build machine). time_t stays 32-bit: bookworm's
# libraries (OpenSSL) are built with it.
set(CMAKE_C_FLAGS_INIT "-D_FILE_OFFSET_BITS=64")
include("${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake")
