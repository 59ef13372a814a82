# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS), run on the staged files of every package:
# what dh_strip and dh_compress do for a Debian package. (CPACK_STRIP_FILES has already
# stripped the programs.)
# - programs: also the .comment section (compiler version strings);
# - static libraries: debug information, deterministically (no time stamps, uid, gid);
# - man pages: gzip -9n (no name or time stamp in the .gz: reproducible).
# The changelog is compressed at configure time (cmake/Packaging.cmake).
set(_pv_stage "${CPACK_TEMPORARY_DIRECTORY}")
file(GLOB_RECURSE _pv_files LIST_DIRECTORIES false "${_pv_stage}/*")
foreach(file IN LISTS _pv_files)
  set(args "")
  if(file MATCHES "/usr/s?bin/[^/]+$")
    set(args --remove-section=.comment --remove-section=.note)
  elseif(file MATCHES "\\.a$")
    set(args --strip-debug --remove-section=.comment --enable-deterministic-archives)
  elseif(file MATCHES "/usr/share/man/man[1-8]/[^/]+\\.[1-8]$")
    execute_process(COMMAND gzip -9 -n -f "${file}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "gzip '${file}' failed")
    endif()
    continue()
  else()
    continue()
  endif()
  execute_process(COMMAND "${CPACK_PIPROV_STRIP}" ${args} "${file}" RESULT_VARIABLE rc
    ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${CPACK_PIPROV_STRIP} ${args} '${file}' failed: ${err}")
  endif()
endforeach()
