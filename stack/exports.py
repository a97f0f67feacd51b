"""Stack output names. Tests, the offline plan and CI import these instead of repeating strings."""

from typing import Final

ENVIRONMENT: Final = "environment"
"""The environment tier of this stack (dev, staging, prod)."""
AVAILABILITY_ZONES: Final = "availabilityZones"
"""Availability zones the VPC spans, in subnet order."""
VPC_ID: Final = "vpcId"
"""ID of the VPC (created or adopted)."""
PUBLIC_SUBNET_IDS: Final = "publicSubnetIds"
"""Public subnets, one per AZ (load balancers, NAT gateways)."""
PRIVATE_SUBNET_IDS: Final = "privateSubnetIds"
"""Private app subnets, one per AZ (Fargate tasks)."""
ISOLATED_SUBNET_IDS: Final = "isolatedSubnetIds"
"""Isolated data subnets, one per AZ (ElastiCache, RDS); no route out."""
NAT_GATEWAY_COUNT: Final = "natGatewayCount"
"""NAT gateways created: 0, 1, or one per AZ."""
