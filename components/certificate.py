"""The HTTPS listener's certificate: an ACM certificate validated by DNS in a Route 53 zone, or an existing one.

With a hosted zone the component requests one certificate for the service hosts (the first name is
the certificate's domain, the others its subject alternative names), writes ACM's validation CNAMEs
into the zone and waits for ACM to issue it (``aws.acm.CertificateValidation``). ``arn`` is the
*validation's* output, not the certificate's: a listener given it depends on the validation, so it is
created only once the certificate is issued (ACM refuses to attach a pending certificate).

Which validation records exist is decided from the plain names: ACM derives a record from the name
without a leading ``*.``, so ``*.example.com`` and ``example.com`` share one, and writing it twice
would fail (Route 53 refuses a second record of the same name and type). Each record reads its name
and value from the certificate's ``domainValidationOptions`` for its own domain, so no resource is
created inside an ``apply``.

With ``existing_arn`` nothing is created: the ARN (same region, an ACM certificate) is checked and
passed through. Giving both, or neither, is refused before anything is registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import pulumi
import pulumi_aws as aws

from components.arns import ACM_CERTIFICATE_ARN, ACM_CERTIFICATE_ARN_ALLOWED
from components.aws_context import AwsContext
from components.errors import InputError, one_of, require
from components.hosted_zone import HostedZone, check_domain_name, validation_name

KeyAlgorithm = Literal["RSA_2048", "EC_prime256v1", "EC_secp384r1"]
"""Key types ALB accepts for an ACM certificate (RSA 2048 or ECDSA P-256/P-384). RSA_2048 is ACM's
default and what every client handshakes with; ECDSA is smaller and faster where clients allow it."""
KEY_ALGORITHMS: Final = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")

MAX_NAMES: Final = 100
"""Domain plus SANs per certificate: RequestCertificate takes up to 100 SANs in botocore's acm model;
ACM's default quota is 10 names per certificate (raise it before asking for more)."""
DEFAULT_NAME_QUOTA: Final = 10
VALIDATION_TTL: Final = 300
"""Seconds resolvers cache a validation CNAME (ACM re-reads it for every renewal)."""


@dataclass(frozen=True, kw_only=True)
class CertificateArgs:
    """Where the certificate comes from: ACM via DNS in ``zone``, or ``existing_arn``."""

    context: AwsContext
    """Account, region and partition (an existing certificate must be in this region: ALB only uses
    certificates of its own region)."""
    domain_names: Sequence[str] = ()
    """Names the certificate covers, the first being its domain (e.g. ``api.example.com``,
    ``ops.example.com``). Required with ``zone``; each must lie in the zone."""
    zone: HostedZone | None = None
    """Public hosted zone to validate in (``HostedZone.lookup`` finds it by ID or name)."""
    existing_arn: str | None = None
    """An issued ACM certificate to use instead (nothing is requested or validated)."""
    key_algorithm: KeyAlgorithm
    """Key type of a requested certificate (checked with an existing one too, where it is unused)."""
    name_quota: int = DEFAULT_NAME_QUOTA
    """Names per certificate the account's ACM quota allows (10 unless raised, up to 100)."""

    def __post_init__(self) -> None:
        one_of("key_algorithm", self.key_algorithm, KEY_ALGORITHMS)
        # Exactly one source. The errors name the other field too (``refers``), so the stack settings
        # can say which config keys conflict.
        if self.zone is not None and self.existing_arn is not None:
            raise InputError(
                "existing_arn",
                self.existing_arn,
                f"none when zone is given (the certificate is requested and DNS-validated in {self.zone.name}); "
                "to use an existing certificate instead, give no zone",
                refers=("zone",),
            )
        if self.zone is None and self.existing_arn is None:
            raise InputError(
                "zone",
                None,
                "a hosted zone (the certificate is requested and DNS-validated there) or existing_arn",
                refers=("existing_arn",),
            )
        if self.existing_arn is not None:
            self._check_existing(self.existing_arn)
            require(
                not self.domain_names,
                "domain_names",
                list(self.domain_names),
                "empty with existing_arn (the existing certificate's names are fixed)",
            )
            return
        assert self.zone is not None
        require(
            isinstance(self.name_quota, int) and 1 <= self.name_quota <= MAX_NAMES,
            "name_quota",
            self.name_quota,
            f"1 to {MAX_NAMES} (ACM's per-certificate name quota)",
        )
        require(bool(self.domain_names), "domain_names", [], "at least one name with a hosted zone")
        for i, domain in enumerate(self.domain_names):
            check_domain_name(f"domain_names[{i}]", domain, wildcard=True)
            self.zone.require_contains(f"domain_names[{i}]", domain)
        duplicates = sorted({d for d in self.domain_names if list(self.domain_names).count(d) > 1})
        require(not duplicates, "domain_names", duplicates, "each name once")
        require(
            len(self.domain_names) <= self.name_quota,
            "domain_names",
            len(self.domain_names),
            f"at most {self.name_quota} names (the ACM quota given in name_quota)",
        )

    def _check_existing(self, arn: str) -> None:
        # The shape is components.arns' (one pattern wherever a certificate ARN is taken); the region
        # and partition are this component's own rule: an ALB only attaches certificates of its region.
        ctx = self.context
        shaped = isinstance(arn, str) and ACM_CERTIFICATE_ARN.match(arn) is not None
        partition, region = (arn.split(":")[1], arn.split(":")[3]) if shaped else ("", "")
        require(
            shaped and partition == ctx.partition and region == ctx.region,
            "existing_arn",
            arn,
            f"{ACM_CERTIFICATE_ARN_ALLOWED} in this stack's region {ctx.region} (an ALB only uses certificates "
            "of its own region)",
        )

    @property
    def validation_domains(self) -> dict[str, str]:
        """Validation record key -> the domain whose validation option names it (first one wins)."""
        records: dict[str, str] = {}
        for domain in self.domain_names:
            records.setdefault(validation_name(domain), domain)
        return records


def _record_key(name: str) -> str:
    """A resource-name-safe key for a validation record (``api.example.com`` -> ``api-example-com``)."""
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")


class Certificate(pulumi.ComponentResource):
    """An ACM certificate validated by DNS (and the wait for it), or an existing certificate's ARN."""

    arn: pulumi.Output[str]
    """The certificate to attach: from the validation (so users wait for issuance), or the existing ARN."""
    requested: bool
    """Whether this stack requested (and validates) the certificate."""
    domain_names: list[str]
    """Names covered, domain first (empty for an existing certificate: its names are not known here)."""
    validation_record_names: list[str]
    """Plain keys of the validation records created (one per distinct validation name)."""

    def __init__(self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:edge:Certificate", name, None, opts)
        self.domain_names = list(args.domain_names)
        if args.existing_arn is not None:
            self.requested = False
            self.validation_record_names = []
            self.arn = pulumi.Output.from_input(args.existing_arn)
            self.register_outputs({"arn": self.arn, "requested": False})
            return

        zone = args.zone
        assert zone is not None
        domain, *alternatives = args.domain_names
        certificate = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=domain,
            subject_alternative_names=alternatives or None,
            validation_method="DNS",
            key_algorithm=args.key_algorithm,
            # Certificate Transparency logging stays on: browsers reject certificates missing from CT logs.
            options=aws.acm.CertificateOptionsArgs(certificate_transparency_logging_preference="ENABLED"),
            tags={"Name": domain},
            # Replaced create-before-delete (the default): the listener moves to the new certificate
            # before the old one, which ACM refuses to delete while in use, goes.
            opts=pulumi.ResourceOptions(parent=self),
        )

        records: list[aws.route53.Record] = []
        self.validation_record_names = []
        for key, source in args.validation_domains.items():
            option = certificate.domain_validation_options.apply(_option_for(source))
            record = aws.route53.Record(
                f"{name}-validation-{_record_key(key)}",
                zone_id=zone.zone_id,
                name=option.apply(lambda o: o.resource_record_name or ""),
                type=option.apply(lambda o: o.resource_record_type or "CNAME"),
                records=[option.apply(lambda o: o.resource_record_value or "")],
                ttl=VALIDATION_TTL,
                # ACM gives the same CNAME to every certificate for this name in this account, so a
                # record may already exist (an earlier certificate): take it over instead of failing.
                allow_overwrite=True,
                opts=pulumi.ResourceOptions(parent=self),
            )
            records.append(record)
            self.validation_record_names.append(key)

        validation = aws.acm.CertificateValidation(
            f"{name}-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[r.fqdn for r in records],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.requested = True
        self.arn = validation.certificate_arn
        self.register_outputs(
            {"arn": self.arn, "requested": True, "domainNames": self.domain_names, "certificateArn": certificate.arn}
        )


ValidationOption = aws.acm.outputs.CertificateDomainValidationOption


def _option_for(domain: str) -> Callable[[Sequence[ValidationOption]], ValidationOption]:
    """Pick ``domain``'s entry of the certificate's ``domainValidationOptions`` (one per name)."""

    def pick(options: Sequence[ValidationOption]) -> ValidationOption:
        for option in options:
            if option.domain_name == domain:
                return option
        found = [o.domain_name for o in options]
        raise ValueError(f"ACM returned no DNS validation option for {domain!r} (got {found})")

    return pick
