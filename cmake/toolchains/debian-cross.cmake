# Shared part of the Debian multiarch toolchain files: the TRIPLET-gcc cross compiler, the
# target's libraries and pkg-config files from /usr/lib/TRIPLET (installed as pkg:ARCH),
# and qemu-user to run the tests on the build machine.
set(CMAKE_C_COMPILER ${PIPROV_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${PIPROV_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH /usr/${PIPROV_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config must see the target's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR}
  "/usr/lib/${PIPROV_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
if(CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
  set(_pv_qemu qemu-aarch64)
else()
  set(_pv_qemu qemu-arm)
endif()
find_program(PIPROV_QEMU_USER ${_pv_qemu})
if(PIPROV_QEMU_USER)
  # -L: the target's dynamic loader and libraries live under /usr/TRIPLET and / (multiarch).
  set(CMAKE_CROSSCOMPILING_EMULATOR "${PIPROV_QEMU_USER};-L;/usr/${PIPROV_CROSS_TRIPLET}")
endif()
