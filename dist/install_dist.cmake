# Install-time part of dist/CMakeLists.txt: runs inside the install script,
# where CMAKE_INSTALL_PREFIX is the prefix really installed to (--prefix,
# cpack's CPACK_PACKAGING_INSTALL_PREFIX) and DESTDIR, if set, the staging
# root (file(INSTALL) puts it in front of the destinations itself). Expects SLIM_SYSCONFDIR, SLIM_BINDIR, SLIM_DIST_SRC and SLIM_DIST_BIN
# (set by an install(CODE) just before).
if(IS_ABSOLUTE "${SLIM_SYSCONFDIR}")
  set(_etc "${SLIM_SYSCONFDIR}")
elseif(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_etc "/etc")
else()
  set(_etc "${CMAKE_INSTALL_PREFIX}/${SLIM_SYSCONFDIR}")
endif()
if(IS_ABSOLUTE "${SLIM_BINDIR}")
  set(_bindir "${SLIM_BINDIR}")
else()
  set(_bindir "${CMAKE_INSTALL_PREFIX}/${SLIM_BINDIR}")
endif()
set(SLIM_CONF_DIR "${_etc}/slim")
set(SLIM_ROUTER_PATH "${_bindir}/slim-router")
configure_file("${SLIM_DIST_SRC}/slim-router.service.in"
               "${SLIM_DIST_BIN}/slim-router.service" @ONLY)
file(INSTALL "${SLIM_DIST_BIN}/slim-router.service"
     DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
configure_file("${SLIM_DIST_SRC}/slim-router.env.in" "${SLIM_DIST_BIN}/slim-router.env" @ONLY)
configure_file("${SLIM_DIST_SRC}/cluster.in" "${SLIM_DIST_BIN}/cluster" @ONLY)
file(INSTALL "${SLIM_DIST_BIN}/slim-router.env" "${SLIM_DIST_BIN}/cluster"
     DESTINATION "${SLIM_CONF_DIR}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
