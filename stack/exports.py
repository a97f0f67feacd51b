"""Stack output names. Tests, the offline plan and CI import these instead of repeating strings."""

from typing import Final

ENVIRONMENT: Final = "environment"
AVAILABILITY_ZONES: Final = "availabilityZones"
VPC_ID: Final = "vpcId"
PUBLIC_SUBNET_IDS: Final = "publicSubnetIds"
PRIVATE_SUBNET_IDS: Final = "privateSubnetIds"
ISOLATED_SUBNET_IDS: Final = "isolatedSubnetIds"
NAT_GATEWAY_COUNT: Final = "natGatewayCount"
