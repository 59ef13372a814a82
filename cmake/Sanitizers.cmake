# PIPROV_SANITIZE=address,undefined builds everything with those sanitizers and makes any
# report fatal, so a CTest run fails on the first finding.
if(PIPROV_SANITIZE)
  set(_pv_san_flags -fsanitize=${PIPROV_SANITIZE} -fno-sanitize-recover=all
      -fno-omit-frame-pointer)
  add_compile_options(${_pv_san_flags})
  add_link_options(${_pv_san_flags})
endif()
