# Install-time part of oci/CMakeLists.txt: CMAKE_INSTALL_PREFIX is the
# prefix really installed to here (DESTDIR, if set, is put in front by
# file(INSTALL)). Expects SLIM_OCI_SRC, SLIM_OCI_BIN, SLIM_OCI_SOCKET and
# SLIM_OCI_ANNOTATION_RE (set by an install(CODE) just before).
set(SLIM_OCI_HOOK_PATH "${CMAKE_INSTALL_PREFIX}/libexec/slim/slim-oci-hook")
configure_file("${SLIM_OCI_SRC}/slim.json.in" "${SLIM_OCI_BIN}/installed/slim.json" @ONLY)
file(INSTALL "${SLIM_OCI_BIN}/installed/slim.json"
     DESTINATION "${CMAKE_INSTALL_PREFIX}/share/containers/oci/hooks.d"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
