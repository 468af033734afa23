# check_install.cmake: `cmake --install` lays out a real system. Installs the build into a
# fresh prefix and checks that every file a system needs is where it belongs.
# Usage: cmake -DBUILD_DIR=... -DPREFIX=... -P check_install.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
set(expected
  sbin/campaignd
  sbin/campaignd-web
  bin/campaignd-ctl
  lib/campaignd/plugins
  etc/campaignd/campaignd.conf
  lib/systemd/system/campaignd.service
  lib/systemd/system/campaignd-scheduler.service
  lib/systemd/system/campaignd-scheduler.timer
  lib/systemd/system/campaignd-bounces.service
  lib/systemd/system/campaignd-bounces.timer
  lib/systemd/system/campaignd-web.service
  lib/systemd/system/campaignd-web.socket
  lib/systemd/system/campaignd-metrics.service
  lib/systemd/system/campaignd-metrics.socket
  share/dbus-1/interfaces/org.campaignd.Campaignd1.Web.xml
  lib/sysusers.d/campaignd.conf
  lib/sysusers.d/campaignd-web.conf
  lib/tmpfiles.d/campaignd.conf
  share/dbus-1/system.d/org.campaignd.Campaignd1.conf
  share/dbus-1/system-services/org.campaignd.Campaignd1.service
  share/dbus-1/interfaces/org.campaignd.Campaignd1.Manager.xml
  share/dbus-1/interfaces/org.campaignd.Campaignd1.Campaign.xml
  share/doc/campaignd/README.md
  share/bash-completion/completions/campaignd-ctl
  share/zsh/vendor-completions/_campaignd-ctl
  share/fish/vendor_completions.d/campaignd-ctl.fish
  share/man/man8/campaignd.8
  share/man/man1/campaignd-ctl.1
  share/man/man5/campaignd.conf.5
  share/man/man8/campaignd-web.8)
foreach(path IN LISTS expected)
  if(NOT EXISTS "${PREFIX}/${path}")
    message(SEND_ERROR "missing after install: ${path}")
  endif()
endforeach()
# Exactly the product's plugins, never a test plugin.
set(product_plugins csv-importer.so imap-bounce.so maildir.so report-mailer.so smtp.so)
file(GLOB installed RELATIVE "${PREFIX}/lib/campaignd/plugins" "${PREFIX}/lib/campaignd/plugins/*")
foreach(p IN LISTS installed)
  if(NOT p IN_LIST product_plugins)
    message(SEND_ERROR "not a product plugin, but installed: ${p}")
  endif()
endforeach()
foreach(p IN LISTS product_plugins)
  if(NOT p IN_LIST installed)
    message(SEND_ERROR "plugin missing after install: ${p}")
  endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}")
