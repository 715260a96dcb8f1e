"""The tenants this process serves, with their agents and resolved credentials."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pydantic import SecretStr, ValidationError

from wta_runtime.manifests import Manifest, ManifestError, ManifestSet, read_manifests
from wta_runtime.specs import AIAgentSpec, SecretKeyRef, WhatsAppTenantSpec

# The Secret the operator writes for a tenant in database mode platform: `<tenant>-database`.
PLATFORM_DATABASE_SUFFIX = "database"
DATABASE_URL_KEY = "url"
# The Secret holding the URL (with the tenant's own NATS user) of its runtime: `<tenant>-nats`.
NATS_SECRET_SUFFIX = "nats"  # noqa: S105 - a name, not a password
NATS_URL_KEY = "url"


class UnknownTenantError(LookupError):
    """No tenant serves the requested name or number."""


@dataclass(frozen=True)
class Agent:
    """An AIAgent as the runtime uses it."""

    name: str
    spec: AIAgentSpec


@dataclass(frozen=True)
class MediaAccessKey:
    """The key pair of the tenant's own media bucket (`spec.media.s3`), from its Secrets."""

    access_key_id: SecretStr
    secret_access_key: SecretStr


@dataclass(frozen=True)
class Tenant:
    """A WhatsAppTenant with its agents and the secrets its spec refers to."""

    name: str
    namespace: str
    spec: WhatsAppTenantSpec
    auth_token: SecretStr
    model_api_key: SecretStr | None
    agents: tuple[Agent, ...]
    media_access_key: MediaAccessKey | None = None
    # Where the tenant's conversations are, when its manifests say (the gateway's routes do);
    # None: the process's own WTA_DATABASE_URL.
    database_url: SecretStr | None = field(default=None, repr=False)
    # The tenant's own NATS URL (its user and password), for a shared runtime; None: WTA_NATS_URL.
    nats_url: SecretStr | None = field(default=None, repr=False)

    @property
    def account_sid(self) -> str:
        return self.spec.twilio.account_sid

    @cached_property  # read for every webhook; a tenant is replaced, never changed, on reload
    def numbers(self) -> tuple[str, ...]:
        return tuple(n.number for n in self.spec.numbers)

    def default_agent(self) -> Agent | None:
        """The agent marked default, else the first one."""
        for agent in self.agents:
            if agent.spec.selection.default:
                return agent
        return self.agents[0] if self.agents else None


@dataclass
class TenantCatalog:
    """Lookup of tenants by name and by (Account SID, WhatsApp number)."""

    tenants: dict[str, Tenant] = field(default_factory=dict)

    def by_name(self, name: str) -> Tenant:
        try:
            return self.tenants[name]
        except KeyError:
            raise UnknownTenantError(f"no tenant named {name!r}") from None

    def by_number(self, account_sid: str, number: str) -> Tenant:
        """Resolve the tenant that owns `number` (with or without the `whatsapp:` prefix)."""
        bare = number.removeprefix("whatsapp:")
        for tenant in self.tenants.values():
            if tenant.account_sid == account_sid and bare in tenant.numbers:
                return tenant
        raise UnknownTenantError(f"no tenant serves {bare} for this account")


def _validate(model: type[WhatsAppTenantSpec] | type[AIAgentSpec], manifest: Manifest) -> object:
    try:
        return model.model_validate(manifest.body.get("spec") or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"spec.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ManifestError(
            f"{manifest.source}: {manifest.kind} {manifest.name!r} is invalid: {problems}"
        ) from None


def secret_env_name(ref: SecretKeyRef) -> str:
    """The environment variable a Deployment fills from this Secret key with `secretKeyRef`."""
    raw = f"WTA_SECRET_{ref.name}_{ref.key}".upper()
    return "".join(c if c.isalnum() else "_" for c in raw)


def database_url_ref(tenant: str, spec: WhatsAppTenantSpec) -> SecretKeyRef:
    """The Secret key holding the tenant's database URL: its own (mode external), or the one the
    operator writes for its schema and role (mode platform, Secret `<tenant>-database`)."""
    placement = spec.database
    if placement.mode == "external" and placement.secret_ref is not None:
        return placement.secret_ref
    return SecretKeyRef(name=f"{tenant}-{PLATFORM_DATABASE_SUFFIX}", key=DATABASE_URL_KEY)


def nats_url_ref(tenant: str) -> SecretKeyRef:
    """The Secret key the operator writes the tenant's runtime NATS URL to."""
    return SecretKeyRef(name=f"{tenant}-{NATS_SECRET_SUFFIX}", key=NATS_URL_KEY)


class SecretResolver:
    """Finds Secret values in the environment, mounted Secret folders, then Secret manifests."""

    def __init__(
        self,
        manifests: ManifestSet,
        secrets_dir: Path | None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._manifests = manifests
        self._secrets_dir = secrets_dir
        self._environ = os.environ if environ is None else environ

    def resolve(self, namespace: str, ref: SecretKeyRef, *, needed_by: str) -> SecretStr:
        found = self.find(namespace, ref)
        if found is None:
            raise ManifestError(
                f"{needed_by}: Secret {namespace}/{ref.name} with key {ref.key!r} not found"
            )
        return found

    def find(self, namespace: str, ref: SecretKeyRef) -> SecretStr | None:
        """The value, or None when no source has it."""
        from_env = self._environ.get(secret_env_name(ref))
        if from_env:
            return SecretStr(from_env)
        if self._secrets_dir is not None:
            mounted = self._secrets_dir / ref.name / ref.key
            if mounted.is_file():
                return SecretStr(mounted.read_text(encoding="utf-8").strip())
        data = self._manifests.secrets.get((namespace, ref.name)) or {}
        return SecretStr(data[ref.key]) if ref.key in data else None


def build_catalog(manifests: ManifestSet, secrets_dir: Path | None = None) -> TenantCatalog:
    """Validate every manifest and join agents to their tenants."""
    secrets = SecretResolver(manifests, secrets_dir)
    agents_by_tenant: dict[tuple[str, str], list[Agent]] = {}
    for manifest in manifests.agents:
        agent_spec = _validate(AIAgentSpec, manifest)
        assert isinstance(agent_spec, AIAgentSpec)
        key = (manifest.namespace, agent_spec.tenant_ref.name)
        agents_by_tenant.setdefault(key, []).append(Agent(manifest.name, agent_spec))
    catalog = TenantCatalog()
    for manifest in manifests.tenants:
        spec = _validate(WhatsAppTenantSpec, manifest)
        assert isinstance(spec, WhatsAppTenantSpec)
        if manifest.name in catalog.tenants:
            raise ManifestError(f"{manifest.source}: tenant {manifest.name!r} is defined twice")
        where = f"WhatsAppTenant {manifest.namespace}/{manifest.name}"
        key_ref = spec.model.api_key_secret_ref
        catalog.tenants[manifest.name] = Tenant(
            name=manifest.name,
            namespace=manifest.namespace,
            spec=spec,
            auth_token=secrets.resolve(
                manifest.namespace, spec.twilio.auth_token_secret_ref, needed_by=where
            ),
            model_api_key=(
                secrets.resolve(manifest.namespace, key_ref, needed_by=where) if key_ref else None
            ),
            agents=tuple(agents_by_tenant.get((manifest.namespace, manifest.name), [])),
            media_access_key=_media_access_key(spec, manifest.namespace, secrets, where),
            database_url=secrets.find(manifest.namespace, database_url_ref(manifest.name, spec)),
            nats_url=secrets.find(manifest.namespace, nats_url_ref(manifest.name)),
        )
    return catalog


def _media_access_key(
    spec: WhatsAppTenantSpec, namespace: str, secrets: SecretResolver, where: str
) -> MediaAccessKey | None:
    bucket = spec.media.s3
    if bucket is None or bucket.access_key_id_secret_ref is None:
        return None
    assert bucket.secret_access_key_secret_ref is not None  # the spec asks for both or neither
    return MediaAccessKey(
        access_key_id=secrets.resolve(namespace, bucket.access_key_id_secret_ref, needed_by=where),
        secret_access_key=secrets.resolve(
            namespace, bucket.secret_access_key_secret_ref, needed_by=where
        ),
    )


def load_catalog(manifests_dir: Path, secrets_dir: Path | None = None) -> TenantCatalog:
    """Read and validate the manifests of a folder."""
    return build_catalog(read_manifests(manifests_dir), secrets_dir)
