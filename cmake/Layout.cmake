# Install layout and what keeps the binaries free of build-machine paths.
#
# Every destination is relative to the install prefix, so `cmake --install build --prefix P`
# (and CPack's staging install) writes only inside P: the udev rules to P/lib/udev/rules.d
# and the systemd units to P/lib/systemd/system (not the absolute folders udev.pc and
# systemd.pc name, which are the build machine's). With the /usr prefix of the Debian
# packages those are udev's and systemd's own /usr/lib folders; under /usr/local, systemd
# and udev read /usr/local/lib/... as well. An absolute value is honoured as given.
set(PIPROV_UDEV_RULES_DIR "lib/udev/rules.d" CACHE STRING
    "udev rules folder (relative: under the install prefix)")
set(PIPROV_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "systemd system unit folder (relative: under the install prefix)")
set(PIPROV_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING
    "systemd-sysusers folder (relative: under the install prefix)")
set(PIPROV_DATA_DIR "${CMAKE_INSTALL_DATADIR}/piprov")

# Install components, one per Debian package (cmake/Packaging.cmake):
#   host   piprov, its udev rules, the station unit, man pages, completion, docs
#   node   piprov-node and its provisioning unit
#   common share/piprov (the firmware-templates presets both programs read)
#   dev    libpiprov.a, the public headers, piprov.pc

# The programs find their data relative to themselves (<bin>/../share/piprov,
# include/piprov/datadir.h), so the build tree mirrors the installed layout: programs and
# tests in build/bin, the data copied to build/share/piprov.
file(GLOB_RECURSE _pv_templates CONFIGURE_DEPENDS
  "${PROJECT_SOURCE_DIR}/firmware-templates/*")
set(_pv_templates_stamp "${PROJECT_BINARY_DIR}/${PIPROV_DATA_DIR}/firmware-templates/.copied")
add_custom_command(OUTPUT "${_pv_templates_stamp}"
  COMMAND "${CMAKE_COMMAND}" -E rm -rf "${PROJECT_BINARY_DIR}/${PIPROV_DATA_DIR}/firmware-templates"
  COMMAND "${CMAKE_COMMAND}" -E copy_directory "${PROJECT_SOURCE_DIR}/firmware-templates"
    "${PROJECT_BINARY_DIR}/${PIPROV_DATA_DIR}/firmware-templates"
  COMMAND "${CMAKE_COMMAND}" -E touch "${_pv_templates_stamp}"
  DEPENDS ${_pv_templates}
  COMMENT "Copying firmware-templates to ${PIPROV_DATA_DIR} of the build tree")
add_custom_target(piprov_data ALL DEPENDS "${_pv_templates_stamp}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/firmware-templates/"
  DESTINATION "${PIPROV_DATA_DIR}/firmware-templates" COMPONENT common)

# No path of the source or build tree in the objects (__FILE__, debug info's compilation
# folder): two builds of the same source in different folders give identical binaries.
# The build folder's map comes last: GCC tries the last matching map first, clang the
# longest, so a build folder inside the source tree is "build", not "./build". (Debian's
# dpkg-buildflags adds the same option to package builds.)
add_compile_options("-ffile-prefix-map=${PROJECT_SOURCE_DIR}=."
  "-ffile-prefix-map=${PROJECT_BINARY_DIR}=build")

# piprov_install_configured(SOURCE DESTINATION COMPONENT)
# Install SOURCE (without a final ".in") into DESTINATION (relative: under the prefix) configured at install time,
# from the prefix of that very install (`cmake --install build --prefix P`, or CPack's /usr):
# @PIPROV_PREFIX@, @PIPROV_BINDIR@, @PIPROV_SBINDIR@, @PIPROV_LIBDIR@, @PIPROV_INCLUDEDIR@,
# @PIPROV_DATADIR@ (share/piprov) are absolute folders of that install, @PIPROV_VERSION@ the
# version. So a unit's ExecStart= or a .pc's libdir names where the files really went.
# The configured copy is kept beside the build, one folder per prefix, so installs to two
# prefixes at once do not race.
function(piprov_install_configured source destination component)
  get_filename_component(name "${source}" NAME)
  string(REGEX REPLACE "\\.in$" "" name "${name}") # piprov.pc.in installs as piprov.pc
  set(code "")
  foreach(var BINDIR SBINDIR LIBDIR INCLUDEDIR)
    set(rel "${CMAKE_INSTALL_${var}}")
    if(IS_ABSOLUTE "${rel}")
      string(APPEND code "set(PIPROV_${var} \"${rel}\")\n")
    else()
      string(APPEND code "set(PIPROV_${var} \"\${CMAKE_INSTALL_PREFIX}/${rel}\")\n")
    endif()
  endforeach()
  if(IS_ABSOLUTE "${destination}")
    set(dest "${destination}")
  else()
    set(dest "\${CMAKE_INSTALL_PREFIX}/${destination}")
  endif()
  # Plain code, not a function: file(INSTALL) records the file in the install manifest
  # through a variable of the calling scope.
  install(CODE "${code}
    set(PIPROV_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    set(PIPROV_DATADIR \"\${CMAKE_INSTALL_PREFIX}/${PIPROV_DATA_DIR}\")
    set(PIPROV_VERSION \"${PROJECT_VERSION}\")
    string(MD5 _pv_key \"\${CMAKE_INSTALL_PREFIX}\")
    set(_pv_configured \"${CMAKE_BINARY_DIR}/install-configured/\${_pv_key}/${name}\")
    configure_file(\"${source}\" \"\${_pv_configured}\" @ONLY)
    file(INSTALL DESTINATION \"${dest}\" TYPE FILE FILES \"\${_pv_configured}\")
  " COMPONENT ${component})
endfunction()
