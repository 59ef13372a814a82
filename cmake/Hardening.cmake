# The hardening Debian builds its packages with (dpkg-buildflags: hardening=+all minus PIE,
# which gcc does by default): stack protector, fortified libc calls, read-only relocations
# bound at start-up. lintian reports binaries without them. _FORTIFY_SOURCE needs
# optimization and is pointless under the sanitizers (they check the same calls), so only
# optimizing builds without sanitizers get it.
option(PIPROV_HARDENING "Build with Debian's hardening flags" ON)
if(PIPROV_HARDENING)
  add_compile_options(-fstack-protector-strong)
  if(NOT PIPROV_SANITIZE AND NOT PIPROV_FUZZ)
    add_compile_options("$<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>")
  endif()
  add_link_options(-Wl,-z,relro -Wl,-z,now)
endif()
