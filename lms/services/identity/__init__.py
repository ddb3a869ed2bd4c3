"""Identity: how an agency's people prove who they are, and how accounts follow the directory.

- `policy`: the agency's sign-in rules (SSO only, a second factor for staff, the idle timeout).
- `providers`: registering an agency's directory (what OIDC and SAML providers share).
- `linking`: a directory sign-in, whichever protocol, becomes one of our people: found by
  (provider, subject), linked once by the configured identifier, roles and unit from groups.
- Protocol modules beside them (OIDC, SAML, SCIM, second factors) call into these.
"""
