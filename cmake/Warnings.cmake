# Warning set for all project code (curl PickyWarnings / git DEVELOPER=1 in spirit).
set(PIPROV_WARNING_FLAGS
  -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wvla -Wpointer-arith -Wundef -Wwrite-strings
  -Wimplicit-fallthrough -Wno-unused-parameter -Wno-missing-field-initializers)
if(PIPROV_WERROR)
  list(APPEND PIPROV_WARNING_FLAGS -Werror)
endif()

# Apply to a target of ours (third-party code is never built in-tree).
function(piprov_warnings target)
  target_compile_options(${target} PRIVATE ${PIPROV_WARNING_FLAGS})
endfunction()
