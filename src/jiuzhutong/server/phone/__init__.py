"""The phone page a remote-authorization QR code opens: template, script, style, renderer."""
