# Shared part of the Debian toolchain files: the TRIPLET-gcc cross compiler with its own C
# library (libc6-dev-ARCH-cross), the target's other libraries, and qemu-user to run the
# tests on the build machine.
#
# The target's libraries come from one of:
# - multiarch: the :ARCH -dev packages installed on this machine (/usr/lib/TRIPLET);
# - a sysroot: -DPIPROV_TARGET_SYSROOT=DIR, a folder with the target's -dev packages and the
#   libraries they need unpacked into it (dpkg -x), as scripts/cross-node makes for armhf.
#   Only those libraries come from DIR; the C library stays the toolchain's (/usr/TRIPLET).
set(CMAKE_C_COMPILER ${PIPROV_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${PIPROV_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
if(PIPROV_TARGET_SYSROOT)
  # try_compile projects read this file again: hand them the sysroot too.
  list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES PIPROV_TARGET_SYSROOT)
  set(_pv_sys "${PIPROV_TARGET_SYSROOT}")
  set(_pv_libdirs "${_pv_sys}/usr/lib/${PIPROV_CROSS_TRIPLET}" "${_pv_sys}/lib/${PIPROV_CROSS_TRIPLET}")
  set(CMAKE_FIND_ROOT_PATH "${_pv_sys}" /usr/${PIPROV_CROSS_TRIPLET})
  # Nothing from the build machine's own /usr: only the sysroot and the toolchain.
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
  # The compiler knows only the toolchain's include and library folders. The multiarch
  # folder comes first (openssl/configuration.h lives there).
  string(APPEND CMAKE_C_FLAGS_INIT
    " -isystem ${_pv_sys}/usr/include/${PIPROV_CROSS_TRIPLET} -isystem ${_pv_sys}/usr/include")
  set(_pv_ldflags "")
  foreach(_pv_dir IN LISTS _pv_libdirs)
    # -rpath-link: the libraries' own dependencies (libusb needs libudev) are found there.
    string(APPEND _pv_ldflags " -L${_pv_dir} -Wl,-rpath-link,${_pv_dir}")
  endforeach()
  set(CMAKE_EXE_LINKER_FLAGS_INIT "${_pv_ldflags}")
  set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_pv_ldflags}")
  set(CMAKE_MODULE_LINKER_FLAGS_INIT "${_pv_ldflags}")
  set(ENV{PKG_CONFIG_LIBDIR}
    "${_pv_sys}/usr/lib/${PIPROV_CROSS_TRIPLET}/pkgconfig:${_pv_sys}/usr/share/pkgconfig")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${_pv_sys}")
  list(JOIN _pv_libdirs ":" _pv_ld_library_path)
  # Under qemu the target's loader reads LD_LIBRARY_PATH (-E sets it for the guest only).
  set(_pv_qemu_env "-E;LD_LIBRARY_PATH=${_pv_ld_library_path}")
else()
  set(CMAKE_FIND_ROOT_PATH /usr/${PIPROV_CROSS_TRIPLET})
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
  # pkg-config must see the target's .pc files only.
  set(ENV{PKG_CONFIG_LIBDIR}
    "/usr/lib/${PIPROV_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
  set(_pv_qemu_env "")
endif()
set(ENV{PKG_CONFIG_PATH} "")
if(CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
  set(_pv_qemu qemu-aarch64)
else()
  set(_pv_qemu qemu-arm)
endif()
find_program(PIPROV_QEMU_USER ${_pv_qemu})
if(PIPROV_QEMU_USER)
  # -L: the target's dynamic loader and C library live under /usr/TRIPLET (then / for
  # multiarch libraries).
  set(CMAKE_CROSSCOMPILING_EMULATOR "${PIPROV_QEMU_USER};-L;/usr/${PIPROV_CROSS_TRIPLET}")
  list(APPEND CMAKE_CROSSCOMPILING_EMULATOR ${_pv_qemu_env})
endif()
