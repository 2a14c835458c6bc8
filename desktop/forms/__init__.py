"""ReportLab rendering of forms, claim packets and SSO e-filing exports from plain data. No Qt."""
