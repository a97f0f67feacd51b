"""The certificate alone: DNS validation records (one per ACM record), the wait, the validated ARN;
an existing certificate instead; and the zone lookup, all refused before anything is registered."""

from __future__ import annotations

from typing import Any

import pytest

from components.aws_context import AwsContext
from components.certificate import Certificate, CertificateArgs
from components.errors import InputError
from components.hosted_zone import HostedZone, check_domain_name, is_within, validation_name
from mockcloud.providers.aws.acm import validation_record
from mockcloud.runner import StackRun
from stack.settings import CERTIFICATE
from tests.aws_validation import request_certificate_request, validate_request
from tests.support import ComponentRunner, config_defaults

CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
ZONE = HostedZone(zone_id="Z0EXAMPLE000000000001", name="example.com")
EXISTING = "arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666"
CERT = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"


def _args(**overrides: Any) -> CertificateArgs:
    """Args at Pulumi.yaml's defaults (key algorithm) for a certificate requested in ZONE."""
    values: dict[str, Any] = {
        "context": CONTEXT,
        **config_defaults(CERTIFICATE, CertificateArgs),
        "zone": ZONE,
        "domain_names": ["api.catalog.example.com", "ops.catalog.example.com"],
        **overrides,
    }
    return CertificateArgs(**values)


def _existing(arn: str) -> CertificateArgs:
    return _args(zone=None, domain_names=(), existing_arn=arn)


def _certificate(run_component: ComponentRunner, *, preview: bool = False, **overrides: Any) -> StackRun:
    return run_component(lambda: Certificate("edge", _args(**overrides)), preview=preview)


def test_requests_one_dns_validated_certificate_for_the_service_hosts(run_component: ComponentRunner) -> None:
    run = _certificate(run_component)
    cert = run.one(CERT)
    assert cert.inputs["domainName"] == "api.catalog.example.com"
    assert cert.inputs["subjectAlternativeNames"] == ["ops.catalog.example.com"]
    assert cert.inputs["validationMethod"] == "DNS"
    assert cert.inputs["options"] == {"certificateTransparencyLoggingPreference": "ENABLED"}
    request = request_certificate_request(cert)
    assert validate_request("acm", "RequestCertificate", request) == []


def test_validation_records_carry_acms_names_and_values(run_component: ComponentRunner) -> None:
    run = _certificate(run_component)
    records = {r.inputs["name"]: r for r in run.of_type(RECORD)}
    assert len(records) == 2
    for domain in ("api.catalog.example.com", "ops.catalog.example.com"):
        name, value = validation_record(domain)
        record = records[name]
        assert record.inputs["zoneId"] == ZONE.zone_id
        assert record.inputs["type"] == "CNAME"
        assert record.inputs["records"] == [value]
        assert record.inputs["ttl"] == 300
        assert (
            validate_request(
                "route53",
                "ChangeResourceRecordSets",
                {
                    "HostedZoneId": record.inputs["zoneId"],
                    "ChangeBatch": {
                        "Changes": [
                            {
                                "Action": "UPSERT",
                                "ResourceRecordSet": {
                                    "Name": record.inputs["name"],
                                    "Type": record.inputs["type"],
                                    "TTL": int(record.inputs["ttl"]),
                                    "ResourceRecords": [{"Value": v} for v in record.inputs["records"]],
                                },
                            }
                        ]
                    },
                },
            )
            == []
        )


def test_a_wildcard_and_its_base_domain_share_one_validation_record(run_component: ComponentRunner) -> None:
    run = _certificate(run_component, domain_names=["catalog.example.com", "*.catalog.example.com", "api.example.com"])
    cert = run.one(CERT)
    assert cert.inputs["subjectAlternativeNames"] == ["*.catalog.example.com", "api.example.com"]
    records = run.of_type(RECORD)
    # Three names, two distinct ACM records: writing the shared one twice would fail in Route 53.
    assert sorted(r.inputs["name"] for r in records) == sorted(
        {validation_record(d)[0] for d in ("catalog.example.com", "api.example.com")}
    )
    assert sorted(r.name for r in records) == ["edge-validation-api-example-com", "edge-validation-catalog-example-com"]


def test_the_validated_arn_comes_from_the_validation_which_waits_for_the_records(
    run_component: ComponentRunner,
) -> None:
    captured: dict[str, Certificate] = {}

    def program() -> None:
        captured["cert"] = Certificate("edge", _args())

    run = run_component(program)
    cert, validation = run.one(CERT), run.one(VALIDATION)
    records = run.of_type(RECORD)
    assert validation.inputs["certificateArn"] == cert.outputs["arn"]
    assert sorted(validation.inputs["validationRecordFqdns"]) == sorted(r.outputs["fqdn"] for r in records)
    assert set(validation.property_dependencies["validationRecordFqdns"]) == {r.urn for r in records}
    assert captured["cert"].requested is True
    component = next(r for r in run.resources if r.type == "platform:edge:Certificate")
    assert component.registered_outputs is not None
    assert component.registered_outputs.fields["arn"].string_value == cert.outputs["arn"]


def test_at_preview_the_record_names_are_unknown_but_their_count_is_not(run_component: ComponentRunner) -> None:
    run = _certificate(run_component, preview=True)
    assert len(run.of_type(RECORD)) == 2
    assert run.one(CERT).inputs["domainName"] == "api.catalog.example.com"


def test_an_existing_certificate_is_passed_through_and_nothing_is_requested(run_component: ComponentRunner) -> None:
    captured: dict[str, Certificate] = {}

    def program() -> None:
        captured["cert"] = Certificate("edge", _existing(EXISTING))

    run = run_component(program)
    assert run.of_type(CERT) == run.of_type(RECORD) == run.of_type(VALIDATION) == []
    assert captured["cert"].requested is False


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"existing_arn": EXISTING}, "existing_arn"),
        ({"zone": None}, "zone"),
        ({"domain_names": ["api.catalog.example.net"]}, "domain_names[0]"),
        ({"domain_names": ["API.example.com"]}, "domain_names[0]"),
        ({"domain_names": ["-api.example.com"]}, "domain_names[0]"),
        ({"domain_names": ["api..example.com"]}, "domain_names[0]"),
        ({"domain_names": ["10.0.0.1"]}, "domain_names[0]"),
        ({"domain_names": ["api.example.com", "api.example.com"]}, "domain_names"),
        ({"domain_names": []}, "domain_names"),
        ({"domain_names": [f"h{i}.example.com" for i in range(11)]}, "domain_names"),
        ({"key_algorithm": "RSA_1024"}, "key_algorithm"),
        ({"name_quota": 101}, "name_quota"),
    ],
)
def test_bad_input_is_refused_naming_the_setting(overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(InputError) as error:
        _args(**overrides)
    assert error.value.setting == setting


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666",  # other region
        "arn:aws:iam::123456789012:server-certificate/legacy",
        "not-an-arn",
    ],
)
def test_an_existing_arn_must_be_an_acm_certificate_in_this_region(arn: str) -> None:
    with pytest.raises(InputError) as error:
        _existing(arn)
    assert error.value.setting == "existing_arn"
    assert "eu-west-1" in error.value.allowed


def test_more_names_pass_once_the_quota_is_raised() -> None:
    names = [f"h{i}.example.com" for i in range(11)]
    assert list(_args(domain_names=names, name_quota=20).domain_names) == names


def test_nothing_is_registered_when_the_zone_does_not_hold_the_domain(run_component: ComponentRunner) -> None:
    def program() -> None:
        Certificate("edge", _args(domain_names=["api.catalog.example.net"]))

    with pytest.raises(InputError, match=r"'domain_names\[0\]' = 'api.catalog.example.net'"):
        run_component(program)


# -- the zone lookup --------------------------------------------------------------------------------
def test_a_zone_is_looked_up_by_id_or_by_name(run_component: ComponentRunner) -> None:
    found: dict[str, HostedZone] = {}

    def program() -> None:
        found["by_id"] = HostedZone.lookup(zone_id="Z0PLATFORM00000000002")
        found["by_name"] = HostedZone.lookup(name="example.com.")

    run_component(program)
    assert found["by_id"] == HostedZone(zone_id="Z0PLATFORM00000000002", name="platform.example.org")
    assert found["by_name"] == HostedZone(zone_id="Z0EXAMPLE000000000001", name="example.com")


def test_a_private_zone_is_refused(run_component: ComponentRunner) -> None:
    with pytest.raises(InputError, match="a public hosted zone"):
        run_component(lambda: HostedZone.lookup(zone_id="Z0PRIVATE000000000003"))


def test_lookup_needs_exactly_one_of_id_and_name() -> None:
    with pytest.raises(InputError, match="a hosted zone ID or a zone name") as neither:
        HostedZone.lookup()
    assert neither.value.setting == "zone"
    with pytest.raises(InputError, match=r"empty when the zone is looked up by zone\.name") as both:
        HostedZone.lookup(zone_id="Z0EXAMPLE000000000001", name="example.com")
    assert (both.value.setting, both.value.refers) == ("zone.zone_id", ("zone.name",))
    with pytest.raises(InputError, match="a Route 53 hosted zone ID"):
        HostedZone.lookup(zone_id="example.com")


def test_zone_values_are_checked() -> None:
    with pytest.raises(InputError) as error:
        HostedZone(zone_id="example.com", name="example.com")
    assert error.value.setting == "zone.zone_id"


def test_name_rules() -> None:
    assert check_domain_name("d", "*.example.com", wildcard=True) == "*.example.com"
    with pytest.raises(InputError):
        check_domain_name("d", "*.example.com")
    with pytest.raises(InputError):
        check_domain_name("d", "example")
    with pytest.raises(InputError):
        check_domain_name("d", "a" * 64 + ".example.com")
    assert is_within("api.example.com", "example.com")
    assert is_within("example.com", "example.com")
    assert is_within("*.example.com", "example.com")
    assert not is_within("badexample.com", "example.com")
    assert validation_name("*.a.example.com") == validation_name("a.example.com") == "a.example.com"
