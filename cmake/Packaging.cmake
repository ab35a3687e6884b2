# The .deb: `cpack -G DEB` in the build tree (after building) makes
# slim_VERSION_ARCH.deb holding what `cmake --install` installs, under /usr,
# with the configuration in /etc/slim (conffiles: dpkg keeps an operator's
# edits on upgrade). docs/operations.md, "Installing".
set(CPACK_PACKAGE_NAME slim)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "the slim authors")
# Who answers for the package (the Maintainer field and the changelog).
set(SLIM_DEB_MAINTAINER "slim maintainers <slim-maintainers@example.org>"
    CACHE STRING "the .deb's Maintainer: NAME <EMAIL>")
set(CPACK_PACKAGE_CONTACT "${SLIM_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "socket-level container overlay network")
set(CPACK_PACKAGE_DESCRIPTION
    "slim carries the virtual addresses of containers in the TCP handshake of\n"
    "host connections: a program started with slim-run gets host sockets from\n"
    "the router of its host (slim-router), so connections between containers\n"
    "run at the speed of the host network. This package holds the router and\n"
    "its systemd unit, slimctl, slim-run and libslim.so, the benchmark programs\n"
    "and the scripts of the emulated testbed.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")

# Install the tree under /usr, with DESTDIR staging, so that the install
# script sees the prefix /usr itself: dist/ then writes /etc/slim and an
# ExecStart of /usr/bin/slim-router.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON)

set(CPACK_DEBIAN_PACKAGE_NAME slim)
# A Debian revision: the package is not native to Debian (slim_0.1.0-1).
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
# Depends from the ELF files' libraries (dpkg-shlibdeps), plus what the
# installed scripts run (util-linux, for nsenter, is essential).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "iproute2, python3")
# conffiles: /etc/slim. triggers: ldconfig for /usr/lib/libslim.so. postinst,
# postrm: tell a running systemd that the unit came or went (they replace
# the ones cpack would write, which call ldconfig directly).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles"
    "${CMAKE_CURRENT_BINARY_DIR}/debian/triggers"
    "${PROJECT_SOURCE_DIR}/dist/deb/postinst"
    "${PROJECT_SOURCE_DIR}/dist/deb/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles"
     "/etc/slim/cluster\n/etc/slim/slim-router.env\n")
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/debian/triggers" "activate-noawait ldconfig\n")

# /usr/share/doc/slim: copyright, and a changelog.Debian.gz (Debian policy
# wants one in every binary package).
string(TIMESTAMP _slim_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/debian/changelog.Debian"
     "slim (${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}) unstable; urgency=medium\n\n"
     "  * Built from the slim sources with cpack.\n\n"
     " -- ${CPACK_PACKAGE_CONTACT}  ${_slim_date}\n")
add_custom_command(OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/debian/changelog.Debian.gz"
  COMMAND ${GZIP} -9n -c "${CMAKE_CURRENT_BINARY_DIR}/debian/changelog.Debian"
          > "${CMAKE_CURRENT_BINARY_DIR}/debian/changelog.Debian.gz"
  DEPENDS "${CMAKE_CURRENT_BINARY_DIR}/debian/changelog.Debian"
  VERBATIM)
add_custom_target(debian_changelog ALL
  DEPENDS "${CMAKE_CURRENT_BINARY_DIR}/debian/changelog.Debian.gz")
install(FILES "${PROJECT_SOURCE_DIR}/dist/copyright"
        DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/debian/changelog.Debian.gz"
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

include(CPack)
