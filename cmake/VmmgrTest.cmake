# vmmgr_add_test(NAME <name> SOURCES <src...> [LIBS <lib...>] LABELS <unit|integration|system...>
#                [TIMEOUT <s>] [FIXTURES <fixture...>] [ENV <VAR=value...>] [RUN_SERIAL]
#                [RESOURCE_LOCK <lock...>])
#
# Builds one cmocka test program and registers it with ctest. Exit code 77 means
# "skipped" (the program must print why). Tests get VMMGR_SOURCE_DIR and
# VMMGR_BINARY_DIR in their environment so they can find scripts and data.
function(vmmgr_add_test)
  cmake_parse_arguments(T "RUN_SERIAL" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;FIXTURES;ENV;RESOURCE_LOCK" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE PkgConfig::CMOCKA ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES
    LABELS "${T_LABELS}"
    SKIP_RETURN_CODE 77
    TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "VMMGR_SOURCE_DIR=${PROJECT_SOURCE_DIR};VMMGR_BINARY_DIR=${PROJECT_BINARY_DIR};${T_ENV}")
  if(T_FIXTURES)
    set_tests_properties(${T_NAME} PROPERTIES FIXTURES_REQUIRED "${T_FIXTURES}")
  endif()
  if(T_RUN_SERIAL)
    set_tests_properties(${T_NAME} PROPERTIES RUN_SERIAL TRUE)
  endif()
  if(T_RESOURCE_LOCK)
    set_tests_properties(${T_NAME} PROPERTIES RESOURCE_LOCK "${T_RESOURCE_LOCK}")
  endif()
endfunction()

# vmmgr_add_script_test(NAME <name> COMMAND <cmd...> LABELS <...> [TIMEOUT s] [FIXTURES ...])
# Registers a shell-driven test (CLI end-to-end checks) with the same conventions
# (and the same optional ENV, RUN_SERIAL and RESOURCE_LOCK).
function(vmmgr_add_script_test)
  cmake_parse_arguments(T "RUN_SERIAL" "NAME;TIMEOUT" "COMMAND;LABELS;FIXTURES;ENV;RESOURCE_LOCK" ${ARGN})
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES
    LABELS "${T_LABELS}"
    SKIP_RETURN_CODE 77
    TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "VMMGR_SOURCE_DIR=${PROJECT_SOURCE_DIR};VMMGR_BINARY_DIR=${PROJECT_BINARY_DIR};${T_ENV}")
  if(T_FIXTURES)
    set_tests_properties(${T_NAME} PROPERTIES FIXTURES_REQUIRED "${T_FIXTURES}")
  endif()
  if(T_RUN_SERIAL)
    set_tests_properties(${T_NAME} PROPERTIES RUN_SERIAL TRUE)
  endif()
  if(T_RESOURCE_LOCK)
    set_tests_properties(${T_NAME} PROPERTIES RESOURCE_LOCK "${T_RESOURCE_LOCK}")
  endif()
endfunction()
