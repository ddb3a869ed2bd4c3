"""SCORM 1.2 and SCORM 2004 (3rd edition) packages: one SCO that opens Ripple.

The zip holds `imsmanifest.xml`, a launch page `index.html` and one small script,
`ripple-scorm.js` (its source is lms/static/js/package/scorm.js). At launch the script finds the
LMS's SCORM API, reads the learner's id and name, and posts them into an iframe to Ripple's
package launch URL; Ripple answers with a single-use token that signs the learner in. Results
come back from Ripple's pages by postMessage and are written through the API. No learning
state is kept in the LMS (suspend_data is never used).
"""

from __future__ import annotations

import io
import os
import zipfile
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from flask import current_app, render_template

from lms.models import DispatchPackage
from lms.public_urls import public_url

SCRIPT_NAME = "ripple-scorm.js"
SCRIPT_SOURCE = ("js", "package", "scorm.js")
XSI = "http://www.w3.org/2001/XMLSchema-instance"

NAMESPACES = {
    "scorm12": {
        "": "http://www.imsproject.org/xsd/imscp_rootv1p1p2",
        "adlcp": "http://www.adlnet.org/xsd/adlcp_rootv1p2",
    },
    "scorm2004": {
        "": "http://www.imsglobal.org/xsd/imscp_v1p1",
        "adlcp": "http://www.adlnet.org/xsd/adlcp_v1p3",
        "adlseq": "http://www.adlnet.org/xsd/adlseq_v1p3",
        "adlnav": "http://www.adlnet.org/xsd/adlnav_v1p3",
        "imsss": "http://www.imsglobal.org/xsd/imsss",
    },
}
SCHEMA_LOCATIONS = {
    "scorm12": (
        "http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd "
        "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd "
        "http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd"
    ),
    "scorm2004": (
        "http://www.imsglobal.org/xsd/imscp_v1p1 imscp_v1p1.xsd "
        "http://www.adlnet.org/xsd/adlcp_v1p3 adlcp_v1p3.xsd "
        "http://www.adlnet.org/xsd/adlseq_v1p3 adlseq_v1p3.xsd "
        "http://www.adlnet.org/xsd/adlnav_v1p3 adlnav_v1p3.xsd "
        "http://www.imsglobal.org/xsd/imsss imsss_v1p0.xsd"
    ),
}
SCHEMA_VERSIONS = {"scorm12": "1.2", "scorm2004": "2004 3rd Edition"}


def manifest(package: DispatchPackage) -> bytes:
    """The package's imsmanifest.xml: one organization, one item, one SCO resource.

    Written as text (ElementTree cannot write a default namespace with unqualified attributes,
    which every manifest has); the only variable text, the title, is escaped."""
    kind = package.kind
    declarations = "".join(
        f"\n    xmlns{':' + prefix if prefix else ''}={quoteattr(uri)}"
        for prefix, uri in NAMESPACES[kind].items()
    )
    scorm_type = "adlcp:scormtype" if kind == "scorm12" else "adlcp:scormType"
    title = escape(package.title)
    files = "".join(f'\n      <file href="{name}"/>' for name in ("index.html", SCRIPT_NAME))
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="ripple-{package.key}" version="1"{declarations}
    xmlns:xsi="{XSI}"
    xsi:schemaLocation={quoteattr(SCHEMA_LOCATIONS[kind])}>
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>{SCHEMA_VERSIONS[kind]}</schemaversion>
  </metadata>
  <organizations default="ripple-organization">
    <organization identifier="ripple-organization">
      <title>{title}</title>
      <item identifier="ripple-item" identifierref="ripple-sco" isvisible="true">
        <title>{title}</title>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="ripple-sco" type="webcontent" {scorm_type}="sco" href="index.html">{files}
    </resource>
  </resources>
</manifest>
"""
    return text.encode()


def ripple_origin() -> str:
    parts = urlsplit(public_url("main.index"))
    return f"{parts.scheme}://{parts.netloc}"


def launch_page(package: DispatchPackage) -> str:
    return render_template(
        "packaging/scorm_index.html",
        package=package,
        ripple_origin=ripple_origin(),
        launch_url=public_url("packaging.launch", package_key=package.key),
        script=SCRIPT_NAME,
    )


def script() -> bytes:
    with open(os.path.join(current_app.static_folder, *SCRIPT_SOURCE), "rb") as source:
        return source.read()


def build_zip(package: DispatchPackage) -> bytes:
    """The zip an LMS imports, made the same way every time for the same package and address."""
    if package.kind not in NAMESPACES:
        raise ValueError(f"not a SCORM package: {package.kind}")
    files = {
        "imsmanifest.xml": manifest(package),
        "index.html": launch_page(package).encode(),
        SCRIPT_NAME: script(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()
