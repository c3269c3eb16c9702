"""The sign: A3 + A4 pages whose text says what is happening and whose QR code opens the public page."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from overt.deployments import DeploymentService
from overt.domain.clock import FakeClock
from overt.errors import GovernanceError
from overt.store import Store
from overt.store.datadir import PublicInfo
from overt.transparency.public import PublicSite
from overt.transparency.signage import HEADLINE, signage_pdf
from tests.gov_helpers import add_entry, plan, users


def decode_qr(pdf: bytes, page: int) -> str:
    """Render one page (as a phone camera sees the printed sign) and decode its QR code with OpenCV.

    Like a phone, it tries again (another distance, OpenCV's other detector) when one look fails:
    OpenCV's detector misses the odd code at one particular scale.
    """
    doc = pdfium.PdfDocument(pdf)
    try:
        for scale in (2.0, 3.0, 1.5):
            img = np.asarray(doc[page].render(scale=scale).to_pil().convert("RGB"))[:, :, ::-1]
            for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
                text, _, _ = detector.detectAndDecode(np.ascontiguousarray(img))
                if text:
                    return str(text)
        return ""
    finally:
        doc.close()


def test_sign_has_the_notice_and_a_qr_code_to_the_public_page(store: Store, clock: FakeClock) -> None:
    u = users(store)
    add_entry(store, "CASE-1", 1)
    svc = DeploymentService(store)
    info = PublicInfo(force_name="Test Constabulary", contact_phone="0100 000 111", contact_email="lfr@example.org")
    site = PublicSite(store, info)
    d = svc.create(u["op"], plan(clock.now()))
    svc.authorise(u["officer"], d.id)
    with pytest.raises(GovernanceError, match="publish its notice"):
        signage_pdf(site, d.id)
    svc.publish_notice(u["op"], d.id)
    pdf = signage_pdf(site, d.id, base_url="https://lfr.example.org")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages]
    assert sizes == [(842, 1191), (595, 842)]  # A3 then A4, in points
    url = f"https://lfr.example.org/public/deployments/{d.id}.html"
    for i, page in enumerate(reader.pages):
        text = " ".join(page.extract_text().split())
        assert HEADLINE in text
        for must in ("High Street, outside the station", "Locate people wanted by the courts", "0100 000 111",
                     "lfr@example.org", "Test Constabulary", url):  # fmt: skip
            assert must in text, (i, must)
        assert decode_qr(pdf, i) == url
