# check_install.cmake: `cmake --install` lays out a real system. Installs the build into a
# fresh prefix and checks that every file a system needs is where it belongs.
# Usage: cmake -DBUILD_DIR=... -DPREFIX=... -P check_install.cmake
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
set(expected
  sbin/campaignd
  bin/campaignd-ctl
  lib/campaignd/plugins
  etc/campaignd/campaignd.conf
  lib/systemd/system/campaignd.service
  lib/sysusers.d/campaignd.conf
  lib/tmpfiles.d/campaignd.conf
  share/dbus-1/system.d/org.campaignd.Campaignd1.conf
  share/dbus-1/system-services/org.campaignd.Campaignd1.service
  share/dbus-1/interfaces/org.campaignd.Campaignd1.Manager.xml
  share/dbus-1/interfaces/org.campaignd.Campaignd1.Campaign.xml
  share/doc/campaignd/README.md)
foreach(path IN LISTS expected)
  if(NOT EXISTS "${PREFIX}/${path}")
    message(SEND_ERROR "missing after install: ${path}")
  endif()
endforeach()
file(GLOB test_plugins "${PREFIX}/lib/campaignd/plugins/*")
foreach(p IN LISTS test_plugins)
  message(SEND_ERROR "a test plugin was installed: ${p}")
endforeach()
file(REMOVE_RECURSE "${PREFIX}")
