# libpiprov-dev's install rules and the Debian packages (CPack, DEB generator).
#
# Why CPack and not debian/ + dpkg-buildpackage: the packages are made from the install
# rules CMake already has (one description of what goes where, also used by `cmake
# --install --prefix`), and piprov-node's arm64/armhf packages come straight from the cross
# builds scripts/cross-node makes (its armhf build uses a sysroot, which dpkg-buildpackage -a
# could not use: it wants the build dependencies installed multiarch). What debhelper would
# add is done here: stripped binaries, compressed man pages and changelog
# (packaging/prebuild.cmake), copyright and changelog per package, Depends from
# dpkg-shlibdeps. scripts/dev package makes them all into build-pkg/ (docs/packaging.md).
#
# Packages (install components, cmake/Layout.cmake):
#   piprov         host   piprov, udev rules, the station unit and its user (sysusers.d,
#                         postinst), man pages, completion, docs
#   piprov-node    node   piprov-node and its provisioning unit (arm64, armhf)
#   piprov-common  common the presets both programs read (share/piprov); Architecture: all.
#                  Its own package because two packages may not ship the same file and
#                  piprov-node needs the presets as much as piprov does.
#   libpiprov-dev  dev    libpiprov.a, include/piprov, piprov.pc

# --- libpiprov-dev. A static library only: its API is young and changes with every
# feature, so a shared libpiprov would need a new SONAME (and package) nearly every release
# and a symbols file nobody keeps; the programs link it statically anyway. Its own
# dependencies are in piprov.pc's Requires (not Requires.private: with no shared library,
# plain `pkg-config --libs piprov` must link).
install(TARGETS piprov_lib ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT dev)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/piprov"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT dev)

# piprov.pc's Requires and the -dev package's Depends, from what piprov_lib links (so a
# module that adds a library adds it here too).
get_target_property(_pv_links piprov_lib INTERFACE_LINK_LIBRARIES)
set(PIPROV_PC_REQUIRES "")
set(PIPROV_PC_LIBS "")
set(_pv_dev_depends "")
find_program(PIPROV_DPKG dpkg)
foreach(link IN LISTS _pv_links)
  string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" link "${link}")
  # "::@(0x...)": CMake's marker of links added from another folder, not a library.
  if(link MATCHES "^::@")
    continue()
  elseif(link MATCHES "^PkgConfig::(.+)$")
    set(module "${${CMAKE_MATCH_1}_MODULE_NAME}")
  elseif(link STREQUAL "OpenSSL::Crypto")
    set(module libcrypto)
  elseif(link STREQUAL "ZLIB::ZLIB")
    set(module zlib)
  elseif(link STREQUAL "pv_microhttpd")
    # src/lib/web's fallback where libmicrohttpd.pc is unusable (a cross sysroot without
    # gnutls.pc): the same library.
    set(module libmicrohttpd)
  elseif(link STREQUAL "Threads::Threads")
    string(APPEND PIPROV_PC_LIBS " -pthread")
    continue()
  else()
    message(FATAL_ERROR "cmake/Packaging.cmake: piprov_lib links '${link}': say which "
      "pkg-config module it is, for piprov.pc")
  endif()
  if(NOT module)
    message(FATAL_ERROR "cmake/Packaging.cmake: no pkg-config module name for '${link}'")
  endif()
  list(APPEND PIPROV_PC_REQUIRES "${module}")
  # The Debian package that holds the module's .pc (libusb-1.0 -> libusb-1.0-0-dev).
  pkg_get_variable(_pv_pcdir "${module}" pcfiledir)
  if(PIPROV_DPKG AND _pv_pcdir)
    execute_process(COMMAND "${PIPROV_DPKG}" -S "${_pv_pcdir}/${module}.pc"
      OUTPUT_VARIABLE _pv_owner ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    string(REGEX REPLACE "[:,].*" "" _pv_owner "${_pv_owner}")
    if(_pv_owner)
      list(APPEND _pv_dev_depends "${_pv_owner}")
    endif()
  endif()
endforeach()
list(REMOVE_DUPLICATES PIPROV_PC_REQUIRES)
list(JOIN PIPROV_PC_REQUIRES " " PIPROV_PC_REQUIRES)
string(STRIP "${PIPROV_PC_LIBS}" PIPROV_PC_LIBS)
# Requires and Libs now; the folders when installing (piprov_install_configured).
file(READ "${PROJECT_SOURCE_DIR}/cmake/piprov.pc.in" _pv_pc)
string(REPLACE "@PIPROV_PC_REQUIRES@" "${PIPROV_PC_REQUIRES}" _pv_pc "${_pv_pc}")
string(REPLACE "@PIPROV_PC_LIBS@" "${PIPROV_PC_LIBS}" _pv_pc "${_pv_pc}")
file(WRITE "${PROJECT_BINARY_DIR}/piprov.pc.in" "${_pv_pc}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  "${PROJECT_SOURCE_DIR}/cmake/piprov.pc.in")
piprov_install_configured("${PROJECT_BINARY_DIR}/piprov.pc.in"
  "${CMAKE_INSTALL_LIBDIR}/pkgconfig" dev)

# --- Per-package documentation: the copyright (machine-readable) and the changelog, in
# /usr/share/doc/PACKAGE as Debian policy wants. The changelog is compressed with -n (no
# name or time stamp in the .gz: reproducible).
set(_pv_changelog_gz "${PROJECT_BINARY_DIR}/packaging/changelog.gz")
file(MAKE_DIRECTORY "${PROJECT_BINARY_DIR}/packaging")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  "${PROJECT_SOURCE_DIR}/packaging/changelog")
execute_process(COMMAND gzip -9 -n -c "${PROJECT_SOURCE_DIR}/packaging/changelog"
  OUTPUT_FILE "${_pv_changelog_gz}" RESULT_VARIABLE _pv_rc)
if(NOT _pv_rc EQUAL 0)
  message(FATAL_ERROR "gzip of packaging/changelog failed")
endif()
set(PIPROV_PACKAGE_host piprov)
set(PIPROV_PACKAGE_node piprov-node)
set(PIPROV_PACKAGE_common piprov-common)
set(PIPROV_PACKAGE_dev libpiprov-dev)
foreach(component host node common dev)
  set(docdir "${CMAKE_INSTALL_DATADIR}/doc/${PIPROV_PACKAGE_${component}}")
  install(FILES "${PROJECT_SOURCE_DIR}/packaging/copyright" "${_pv_changelog_gz}"
    DESTINATION "${docdir}" COMPONENT ${component})
endforeach()

# --- CPack.
# Which packages a build makes: piprov-node only where it runs (an arm64/armhf target);
# the host packages from a native build.
if(PIPROV_CROSS_TRIPLET STREQUAL "aarch64-linux-gnu")
  set(_pv_arch arm64)
elseif(PIPROV_CROSS_TRIPLET STREQUAL "arm-linux-gnueabihf")
  set(_pv_arch armhf)
elseif(PIPROV_DPKG)
  execute_process(COMMAND "${PIPROV_DPKG}" --print-architecture OUTPUT_VARIABLE _pv_arch
    OUTPUT_STRIP_TRAILING_WHITESPACE)
else()
  set(_pv_arch "${CMAKE_SYSTEM_PROCESSOR}")
endif()
if(CMAKE_CROSSCOMPILING)
  set(_pv_components node)
  # scripts/cross-node builds only some targets: packaging must not build "all" first.
  set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
else()
  set(_pv_components host common dev)
  if(_pv_arch MATCHES "^(arm64|armhf)$")
    list(APPEND _pv_components node)
  endif()
endif()
set(PIPROV_PACKAGE_COMPONENTS "${_pv_components}" CACHE STRING
  "Install components CPack packages (host node common dev)")
set(PIPROV_PACKAGE_MAINTAINER "piprov maintainers <maintainers@piprov.invalid>" CACHE STRING
  "Maintainer field of the Debian packages")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME piprov)
set(CPACK_PACKAGE_VENDOR "the piprov authors")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${PIPROV_PACKAGE_MAINTAINER}")
# Each package's Description is its CPACK_DEBIAN_<COMPONENT>_DESCRIPTION (first line: the
# synopsis). CPackDeb (CMake 3.25) puts any summary other than CPack's default in front of
# those, so the summary is set to that default.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL ${PIPROV_PACKAGE_COMPONENTS})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "${_pv_arch}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_PRE_BUILD_SCRIPTS "${PROJECT_SOURCE_DIR}/packaging/prebuild.cmake")
set(CPACK_PIPROV_STRIP "${CMAKE_STRIP}") # the target's strip, for prebuild.cmake
set(_pv_common_dep "piprov-common (= ${PROJECT_VERSION})")

set(CPACK_DEBIAN_HOST_PACKAGE_NAME piprov)
set(CPACK_DEBIAN_HOST_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_HOST_PACKAGE_SHLIBDEPS ON)
# adduser: the postinst's way to create the station's user where systemd-sysusers is not
# there (packaging/postinst).
set(CPACK_DEBIAN_HOST_PACKAGE_DEPENDS "${_pv_common_dep}, adduser")
set(CPACK_DEBIAN_HOST_PACKAGE_CONTROL_EXTRA "${PROJECT_SOURCE_DIR}/packaging/postinst")
set(CPACK_DEBIAN_HOST_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_HOST_PACKAGE_SUGGESTS "dnsmasq | kea-dhcp4-server, rpi-eeprom, rpiboot")
set(CPACK_DEBIAN_HOST_DESCRIPTION "bring fleets of Raspberry Pi boards onto network boot
piprov flashes the bootloader EEPROM of Raspberry Pi 4/5 boards and Compute
Modules over USB (rpiboot-compatible, many boards at once) or from an image
file, records every board's serial number and MAC address in an inventory, and
exports what a network-boot server needs: dnsmasq, Kea, ethers, hosts, TFTP
folders, NFS exports, Tinkerbell and Ansible. It also captures and explains
bootloader serial logs, and replaces rpiboot and rpi-eeprom-config.")

set(CPACK_DEBIAN_NODE_PACKAGE_NAME piprov-node)
set(CPACK_DEBIAN_NODE_PACKAGE_SECTION admin)
# Cross builds: dpkg-shlibdeps cannot see the target's libraries (the armhf ones are in a
# sysroot); packaging/node-debs passes the Depends of the native build of the same program.
if(CMAKE_CROSSCOMPILING)
  set(CPACK_DEBIAN_NODE_PACKAGE_SHLIBDEPS OFF)
else()
  set(CPACK_DEBIAN_NODE_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_DEBIAN_NODE_PACKAGE_DEPENDS "${_pv_common_dep}")
set(CPACK_DEBIAN_NODE_PACKAGE_SUGGESTS "rpi-eeprom, flashrom")
set(CPACK_DEBIAN_NODE_DESCRIPTION "switch a Raspberry Pi to network boot from the Pi itself
piprov-node runs on the Raspberry Pi: it reads the board's serial number, MAC
address, revision and bootloader config, switches the bootloader to network
boot the way rpi-eeprom-update does (staged update or flashrom), and records
the board in a piprov inventory. With its systemd unit one SD card provisions
one board after another unattended.")

set(CPACK_DEBIAN_COMMON_PACKAGE_NAME piprov-common)
# Multi-Arch: foreign (data any architecture's program reads): piprov-node:arm64 installed
# beside an amd64 dpkg (tests, a multiarch machine) must find its piprov-common satisfied.
# CPack 3.25 has no Multi-Arch setting; it writes each field as "Name: value\n" in order,
# so the field rides on Section's value (dpkg-deb -f shows both fields).
set(CPACK_DEBIAN_COMMON_PACKAGE_SECTION "admin\nMulti-Arch: foreign")
set(CPACK_DEBIAN_COMMON_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_COMMON_DESCRIPTION "boot-order presets for piprov and piprov-node
The bootloader config presets (sd, usb, network, nvme, http for the BCM2711
and BCM2712 boards) that piprov --preset and piprov-node --preset apply.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libpiprov-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
list(REMOVE_DUPLICATES _pv_dev_depends)
list(JOIN _pv_dev_depends ", " CPACK_DEBIAN_DEV_PACKAGE_DEPENDS)
set(CPACK_DEBIAN_DEV_DESCRIPTION "piprov library, static, with its headers
libpiprov is the library behind piprov and piprov-node: the bootloader EEPROM
image engine, the rpiboot USB protocol, the board inventory and its exports,
bootloader serial-log parsing and virtual Raspberry Pis. This package holds the
static library, the headers and piprov.pc.")

include(CPack)
