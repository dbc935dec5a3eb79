// Shared fixtures for the IPFIX tests and bench: Antrea-shaped records and a template with one field of every type.
import { defineTemplate, type Template } from './template.js';
import { antreaTemplateFields } from './registry.js';
import { type IpfixRecord } from './types.js';

export const antreaTemplateV4: Template = defineTemplate(256, antreaTemplateFields(4));
export const antreaTemplateV6: Template = defineTemplate(257, antreaTemplateFields(6));

export function antreaRecordV4(i: number): IpfixRecord {
  return {
    flowStartSeconds: 1700000000 + i,
    flowEndSeconds: 1700000030 + i,
    flowEndReason: 2,
    sourceTransportPort: 30000 + (i % 30000),
    destinationTransportPort: 8080,
    protocolIdentifier: 6,
    packetTotalCount: BigInt(1000 + i),
    octetTotalCount: BigInt(150000 + i),
    packetDeltaCount: 10n,
    octetDeltaCount: 1500n,
    sourceIPv4Address: `10.10.${(i >> 8) & 255}.${i & 255}`,
    destinationIPv4Address: '10.10.1.2',
    reversePacketTotalCount: 900n,
    reverseOctetTotalCount: 1200000n,
    reversePacketDeltaCount: 9n,
    reverseOctetDeltaCount: 12000n,
    sourcePodName: `frontend-7d4b9c-${i % 1000}`,
    sourcePodNamespace: 'shop',
    sourceNodeName: 'k8s-node-1',
    destinationPodName: 'backend-5f6d8-x2x9z',
    destinationPodNamespace: 'shop',
    destinationNodeName: 'k8s-node-2',
    destinationServicePort: 80,
    destinationServicePortName: 'shop/backend:http',
    ingressNetworkPolicyName: 'allow-frontend',
    ingressNetworkPolicyNamespace: 'shop',
    ingressNetworkPolicyType: 1,
    ingressNetworkPolicyRuleName: '',
    ingressNetworkPolicyRuleAction: 1,
    egressNetworkPolicyName: '',
    egressNetworkPolicyNamespace: '',
    egressNetworkPolicyType: 0,
    egressNetworkPolicyRuleName: '',
    egressNetworkPolicyRuleAction: 0,
    tcpState: 'ESTABLISHED',
    flowType: 2,
    destinationClusterIPv4: '10.96.0.10',
  };
}

/** One IANA IE of every abstract data type with an IANA IE, and a value for each. */
export const everyTypeFields = [
  'protocolIdentifier', // unsigned8
  'sourceTransportPort', // unsigned16
  'ingressInterface', // unsigned32
  'octetDeltaCount', // unsigned64
  'mibObjectValueInteger', // signed32
  'samplingProbability', // float64
  'dataRecordsReliability', // boolean
  'sourceMacAddress', // macAddress
  'interfaceName', // string
  'applicationId', // octetArray
  'flowStartSeconds', // dateTimeSeconds
  'flowStartMilliseconds', // dateTimeMilliseconds
  'flowStartMicroseconds', // dateTimeMicroseconds
  'flowStartNanoseconds', // dateTimeNanoseconds
  'sourceIPv4Address', // ipv4Address
  'sourceIPv6Address', // ipv6Address
] as const;

export function everyTypeRecord(i: number): IpfixRecord {
  return {
    protocolIdentifier: 17,
    sourceTransportPort: 40000 + i,
    ingressInterface: 4000000000 + i,
    octetDeltaCount: 18000000000000000000n + BigInt(i),
    mibObjectValueInteger: -123456 - i,
    samplingProbability: 0.25 + i,
    dataRecordsReliability: i % 2 === 0,
    sourceMacAddress: '0a:1b:2c:3d:4e:5f',
    interfaceName: `eth${i}-ünï`,
    applicationId: Buffer.from([3, 0, 80, i & 255]),
    flowStartSeconds: 1700000000 + i,
    flowStartMilliseconds: 1700000000123 + i,
    flowStartMicroseconds: 1700000000123456n + BigInt(i),
    flowStartNanoseconds: 1700000000123456789n + BigInt(i),
    sourceIPv4Address: `192.168.${i & 255}.7`,
    sourceIPv6Address: `fd00:10:244::${(i + 1).toString(16)}`,
  };
}
