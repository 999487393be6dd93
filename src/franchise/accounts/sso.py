"""Single sign-on with OpenID Connect (Microsoft Entra ID, or any standard provider).

Authorization code flow with PKCE (S256); `state` ties the answer to the browser that
started the sign-in and `nonce` ties the ID token to it; the ID token's signature is
checked against the provider's published keys, and its issuer, audience, expiry and
nonce are checked. Staff are matched by e-mail only: nobody is created by signing in.
The network calls (discovery, token, keys) happen before the request's database work.
httpx and joserfc are imported by the sign-in itself, so a server without SSO never loads
them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from franchise.errors import FranchiseError
from franchise.orgsettings.sealing import Unsealable, seal, unseal
from franchise.settings import Settings

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")
TIMEOUT = 10.0
FLOW_SECONDS = 600


class SsoRefused(FranchiseError):
    code = "sso_refused"
    status = 403


def sso_enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def password_allowed(settings: Settings, email: str) -> bool:
    """With "SSO only", passwords work for the one break-glass admin and nobody else."""
    if not settings.sso_only:
        return True
    return bool(settings.sso_break_glass_email) and (
        email.strip().lower() == settings.sso_break_glass_email.strip().lower()
    )


def discover(settings: Settings) -> dict[str, Any]:
    import httpx

    url = settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        answer = httpx.get(url, timeout=TIMEOUT)
        answer.raise_for_status()
        config: dict[str, Any] = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SsoRefused(f"the sign-in provider could not be reached ({url}): {exc}") from None
    if (
        config.get("issuer") != settings.oidc_issuer.rstrip("/")
        and config.get("issuer") != settings.oidc_issuer
    ):
        raise SsoRefused("the sign-in provider's discovery document names another issuer")
    return config


@dataclass(frozen=True)
class Flow:
    """What the browser carries (sealed, in a cookie) between leaving and coming back."""

    state: str
    nonce: str
    verifier: str
    next_url: str
    started: float

    def seal(self, settings: Settings) -> str:
        return seal(settings, json.dumps(self.__dict__))

    @classmethod
    def unseal(cls, settings: Settings, sealed: str) -> Flow:
        try:
            data = json.loads(unseal(settings, sealed))
            flow = cls(**data)
        except (Unsealable, ValueError, TypeError):
            raise SsoRefused("this sign-in expired or did not start here; try again") from None
        if time.time() - flow.started > FLOW_SECONDS:
            raise SsoRefused("this sign-in took too long; try again")
        return flow


def start(
    settings: Settings, config: dict[str, Any], *, redirect_uri: str, next_url: str
) -> tuple[str, Flow]:
    """The provider URL to send the browser to, and the flow to keep until it returns."""
    flow = Flow(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),
        next_url=next_url,
        started=time.time(),
    )
    query = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid email profile",
        "state": flow.state,
        "nonce": flow.nonce,
        "code_challenge": challenge(flow.verifier),
        "code_challenge_method": "S256",
    }
    return f"{config['authorization_endpoint']}?{urlencode(query)}", flow


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def exchange(
    settings: Settings, config: dict[str, Any], *, code: str, redirect_uri: str, verifier: str
) -> str:
    """The ID token for an authorization code."""
    import httpx

    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": settings.oidc_client_id,
        "client_secret": settings.oidc_client_secret,
        "code_verifier": verifier,
    }
    try:
        answer = httpx.post(config["token_endpoint"], data=form, timeout=TIMEOUT)
        body = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SsoRefused(f"the sign-in provider's token endpoint failed: {exc}") from None
    if answer.status_code != 200 or "id_token" not in body:
        raise SsoRefused(
            f"the sign-in provider refused the code: {body.get('error', answer.status_code)}"
        )
    return str(body["id_token"])


def keys(config: dict[str, Any]) -> KeySet:
    import httpx
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    try:
        answer = httpx.get(config["jwks_uri"], timeout=TIMEOUT)
        answer.raise_for_status()
        return KeySet.import_key_set(answer.json())
    except (httpx.HTTPError, ValueError, JoseError) as exc:
        raise SsoRefused(f"the sign-in provider's keys could not be read: {exc}") from None


def verify_id_token(
    id_token: str,
    *,
    key_set: KeySet,
    issuer: str,
    client_id: str,
    nonce: str,
    now: int | None = None,
) -> str:
    """The e-mail address of a verified ID token, lower case; SsoRefused otherwise."""
    from joserfc import jwt
    from joserfc.errors import JoseError

    try:
        token = jwt.decode(id_token, key_set, algorithms=SIGNING_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            now=now,
            leeway=60,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
            sub={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise SsoRefused(f"the ID token was refused: {exc}") from None
    claims = token.claims
    # Entra ID puts the sign-in address in preferred_username unless "email" is configured.
    email = claims.get("email") or claims.get("preferred_username") or claims.get("upn") or ""
    if not isinstance(email, str) or "@" not in email:
        raise SsoRefused("the ID token carries no e-mail address")
    return email.strip().lower()
