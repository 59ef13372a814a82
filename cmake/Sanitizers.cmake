# PIPROV_SANITIZE=address,undefined builds everything with those sanitizers and makes any
# report fatal, so a CTest run fails on the first finding.
if(PIPROV_SANITIZE)
  set(_pv_san_flags -fsanitize=${PIPROV_SANITIZE} -fno-sanitize-recover=all
      -fno-omit-frame-pointer)
  add_compile_options(${_pv_san_flags})
  add_link_options(${_pv_san_flags})
endif()

# PIPROV_FUZZ=ON: a fuzz target learns only from the code that is instrumented, so the whole
# build (the library above all, not just the harness) gets libFuzzer's coverage
# instrumentation (fuzzer-no-link) plus ASan and UBSan; only the fuzz targets link the
# libFuzzer driver itself (tests/fuzz/CMakeLists.txt).
if(PIPROV_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PIPROV_FUZZ=ON needs clang: configure with CC=clang")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
