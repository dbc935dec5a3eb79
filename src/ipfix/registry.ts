import { IpfixError } from './errors.js';
import { type IpfixDataType } from './types.js';

/** Enterprise numbers this library knows by heart. */
export const IANA_ENTERPRISE = 0;
/** RFC 5103 reverse information elements: the IANA id under this private enterprise number. */
export const REVERSE_ENTERPRISE = 29305;
/** Antrea's private enterprise number as go-ipfix registers it (Antrea v1.5 docs say 56505, which is wrong). */
export const ANTREA_ENTERPRISE = 56506;

export interface InformationElement {
  readonly name: string;
  readonly enterprise: number;
  readonly id: number;
  readonly type: IpfixDataType;
}

type Row = readonly [id: number, name: string, type: IpfixDataType];

// IANA "IPFIX Information Elements" registry: the flow, counter, address and time IEs that exporters commonly
// send, and every IE Antrea uses. Ids and types are IANA's.
const iana: readonly Row[] = [
  [1, 'octetDeltaCount', 'unsigned64'],
  [2, 'packetDeltaCount', 'unsigned64'],
  [3, 'deltaFlowCount', 'unsigned64'],
  [4, 'protocolIdentifier', 'unsigned8'],
  [5, 'ipClassOfService', 'unsigned8'],
  [6, 'tcpControlBits', 'unsigned16'],
  [7, 'sourceTransportPort', 'unsigned16'],
  [8, 'sourceIPv4Address', 'ipv4Address'],
  [9, 'sourceIPv4PrefixLength', 'unsigned8'],
  [10, 'ingressInterface', 'unsigned32'],
  [11, 'destinationTransportPort', 'unsigned16'],
  [12, 'destinationIPv4Address', 'ipv4Address'],
  [13, 'destinationIPv4PrefixLength', 'unsigned8'],
  [14, 'egressInterface', 'unsigned32'],
  [15, 'ipNextHopIPv4Address', 'ipv4Address'],
  [16, 'bgpSourceAsNumber', 'unsigned32'],
  [17, 'bgpDestinationAsNumber', 'unsigned32'],
  [18, 'bgpNextHopIPv4Address', 'ipv4Address'],
  [19, 'postMCastPacketDeltaCount', 'unsigned64'],
  [20, 'postMCastOctetDeltaCount', 'unsigned64'],
  [21, 'flowEndSysUpTime', 'unsigned32'],
  [22, 'flowStartSysUpTime', 'unsigned32'],
  [23, 'postOctetDeltaCount', 'unsigned64'],
  [24, 'postPacketDeltaCount', 'unsigned64'],
  [25, 'minimumIpTotalLength', 'unsigned64'],
  [26, 'maximumIpTotalLength', 'unsigned64'],
  [27, 'sourceIPv6Address', 'ipv6Address'],
  [28, 'destinationIPv6Address', 'ipv6Address'],
  [29, 'sourceIPv6PrefixLength', 'unsigned8'],
  [30, 'destinationIPv6PrefixLength', 'unsigned8'],
  [31, 'flowLabelIPv6', 'unsigned32'],
  [32, 'icmpTypeCodeIPv4', 'unsigned16'],
  [33, 'igmpType', 'unsigned8'],
  [36, 'flowActiveTimeout', 'unsigned16'],
  [37, 'flowIdleTimeout', 'unsigned16'],
  [40, 'exportedOctetTotalCount', 'unsigned64'],
  [41, 'exportedMessageTotalCount', 'unsigned64'],
  [42, 'exportedFlowRecordTotalCount', 'unsigned64'],
  [44, 'sourceIPv4Prefix', 'ipv4Address'],
  [45, 'destinationIPv4Prefix', 'ipv4Address'],
  [52, 'minimumTTL', 'unsigned8'],
  [53, 'maximumTTL', 'unsigned8'],
  [54, 'fragmentIdentification', 'unsigned32'],
  [55, 'postIpClassOfService', 'unsigned8'],
  [56, 'sourceMacAddress', 'macAddress'],
  [57, 'postDestinationMacAddress', 'macAddress'],
  [58, 'vlanId', 'unsigned16'],
  [59, 'postVlanId', 'unsigned16'],
  [60, 'ipVersion', 'unsigned8'],
  [61, 'flowDirection', 'unsigned8'],
  [62, 'ipNextHopIPv6Address', 'ipv6Address'],
  [63, 'bgpNextHopIPv6Address', 'ipv6Address'],
  [64, 'ipv6ExtensionHeaders', 'unsigned32'],
  [80, 'destinationMacAddress', 'macAddress'],
  [81, 'postSourceMacAddress', 'macAddress'],
  [82, 'interfaceName', 'string'],
  [83, 'interfaceDescription', 'string'],
  [85, 'octetTotalCount', 'unsigned64'],
  [86, 'packetTotalCount', 'unsigned64'],
  [88, 'fragmentOffset', 'unsigned16'],
  [95, 'applicationId', 'octetArray'],
  [96, 'applicationName', 'string'],
  [98, 'postIpDiffServCodePoint', 'unsigned8'],
  [130, 'exporterIPv4Address', 'ipv4Address'],
  [131, 'exporterIPv6Address', 'ipv6Address'],
  [132, 'droppedOctetDeltaCount', 'unsigned64'],
  [133, 'droppedPacketDeltaCount', 'unsigned64'],
  [134, 'droppedOctetTotalCount', 'unsigned64'],
  [135, 'droppedPacketTotalCount', 'unsigned64'],
  [136, 'flowEndReason', 'unsigned8'],
  [137, 'commonPropertiesId', 'unsigned64'],
  [138, 'observationPointId', 'unsigned64'],
  [139, 'icmpTypeCodeIPv6', 'unsigned16'],
  [140, 'mplsTopLabelIPv6Address', 'ipv6Address'],
  [141, 'lineCardId', 'unsigned32'],
  [142, 'portId', 'unsigned32'],
  [143, 'meteringProcessId', 'unsigned32'],
  [144, 'exportingProcessId', 'unsigned32'],
  [145, 'templateId', 'unsigned16'],
  [146, 'wlanChannelId', 'unsigned8'],
  [147, 'wlanSSID', 'string'],
  [148, 'flowId', 'unsigned64'],
  [149, 'observationDomainId', 'unsigned32'],
  [150, 'flowStartSeconds', 'dateTimeSeconds'],
  [151, 'flowEndSeconds', 'dateTimeSeconds'],
  [152, 'flowStartMilliseconds', 'dateTimeMilliseconds'],
  [153, 'flowEndMilliseconds', 'dateTimeMilliseconds'],
  [154, 'flowStartMicroseconds', 'dateTimeMicroseconds'],
  [155, 'flowEndMicroseconds', 'dateTimeMicroseconds'],
  [156, 'flowStartNanoseconds', 'dateTimeNanoseconds'],
  [157, 'flowEndNanoseconds', 'dateTimeNanoseconds'],
  [158, 'flowStartDeltaMicroseconds', 'unsigned32'],
  [159, 'flowEndDeltaMicroseconds', 'unsigned32'],
  [160, 'systemInitTimeMilliseconds', 'dateTimeMilliseconds'],
  [161, 'flowDurationMilliseconds', 'unsigned32'],
  [162, 'flowDurationMicroseconds', 'unsigned32'],
  [163, 'observedFlowTotalCount', 'unsigned64'],
  [164, 'ignoredPacketTotalCount', 'unsigned64'],
  [165, 'ignoredOctetTotalCount', 'unsigned64'],
  [166, 'notSentFlowTotalCount', 'unsigned64'],
  [167, 'notSentPacketTotalCount', 'unsigned64'],
  [168, 'notSentOctetTotalCount', 'unsigned64'],
  [176, 'icmpTypeIPv4', 'unsigned8'],
  [177, 'icmpCodeIPv4', 'unsigned8'],
  [178, 'icmpTypeIPv6', 'unsigned8'],
  [179, 'icmpCodeIPv6', 'unsigned8'],
  [180, 'udpSourcePort', 'unsigned16'],
  [181, 'udpDestinationPort', 'unsigned16'],
  [182, 'tcpSourcePort', 'unsigned16'],
  [183, 'tcpDestinationPort', 'unsigned16'],
  [184, 'tcpSequenceNumber', 'unsigned32'],
  [185, 'tcpAcknowledgementNumber', 'unsigned32'],
  [186, 'tcpWindowSize', 'unsigned16'],
  [187, 'tcpUrgentPointer', 'unsigned16'],
  [188, 'tcpHeaderLength', 'unsigned8'],
  [189, 'ipHeaderLength', 'unsigned8'],
  [190, 'totalLengthIPv4', 'unsigned16'],
  [191, 'payloadLengthIPv6', 'unsigned16'],
  [192, 'ipTTL', 'unsigned8'],
  [193, 'nextHeaderIPv6', 'unsigned8'],
  [194, 'mplsPayloadLength', 'unsigned32'],
  [195, 'ipDiffServCodePoint', 'unsigned8'],
  [196, 'ipPrecedence', 'unsigned8'],
  [197, 'fragmentFlags', 'unsigned8'],
  [198, 'octetDeltaSumOfSquares', 'unsigned64'],
  [199, 'octetTotalSumOfSquares', 'unsigned64'],
  [200, 'mplsTopLabelTTL', 'unsigned8'],
  [205, 'udpMessageLength', 'unsigned16'],
  [206, 'isMulticast', 'unsigned8'],
  [210, 'paddingOctets', 'octetArray'],
  [211, 'collectorIPv4Address', 'ipv4Address'],
  [212, 'collectorIPv6Address', 'ipv6Address'],
  [213, 'exportInterface', 'unsigned32'],
  [214, 'exportProtocolVersion', 'unsigned8'],
  [215, 'exportTransportProtocol', 'unsigned8'],
  [216, 'collectorTransportPort', 'unsigned16'],
  [217, 'exporterTransportPort', 'unsigned16'],
  [218, 'tcpSynTotalCount', 'unsigned64'],
  [219, 'tcpFinTotalCount', 'unsigned64'],
  [220, 'tcpRstTotalCount', 'unsigned64'],
  [221, 'tcpPshTotalCount', 'unsigned64'],
  [222, 'tcpAckTotalCount', 'unsigned64'],
  [223, 'tcpUrgTotalCount', 'unsigned64'],
  [224, 'ipTotalLength', 'unsigned64'],
  [225, 'postNATSourceIPv4Address', 'ipv4Address'],
  [226, 'postNATDestinationIPv4Address', 'ipv4Address'],
  [227, 'postNAPTSourceTransportPort', 'unsigned16'],
  [228, 'postNAPTDestinationTransportPort', 'unsigned16'],
  [229, 'natOriginatingAddressRealm', 'unsigned8'],
  [230, 'natEvent', 'unsigned8'],
  [231, 'initiatorOctets', 'unsigned64'],
  [232, 'responderOctets', 'unsigned64'],
  [233, 'firewallEvent', 'unsigned8'],
  [234, 'ingressVRFID', 'unsigned32'],
  [235, 'egressVRFID', 'unsigned32'],
  [236, 'VRFname', 'string'],
  [239, 'biflowDirection', 'unsigned8'],
  [256, 'ethernetType', 'unsigned16'],
  [276, 'dataRecordsReliability', 'boolean'],
  [281, 'postNATSourceIPv6Address', 'ipv6Address'],
  [282, 'postNATDestinationIPv6Address', 'ipv6Address'],
  [298, 'initiatorPackets', 'unsigned64'],
  [299, 'responderPackets', 'unsigned64'],
  [300, 'observationDomainName', 'string'],
  [311, 'samplingProbability', 'float64'],
  [313, 'ipHeaderPacketSection', 'octetArray'],
  [314, 'ipPayloadPacketSection', 'octetArray'],
  [320, 'absoluteError', 'float64'],
  [321, 'relativeError', 'float64'],
  [322, 'observationTimeSeconds', 'dateTimeSeconds'],
  [323, 'observationTimeMilliseconds', 'dateTimeMilliseconds'],
  [324, 'observationTimeMicroseconds', 'dateTimeMicroseconds'],
  [325, 'observationTimeNanoseconds', 'dateTimeNanoseconds'],
  [336, 'upperCILimit', 'float64'],
  [337, 'lowerCILimit', 'float64'],
  [338, 'confidenceLevel', 'float64'],
  [434, 'mibObjectValueInteger', 'signed32'],
];

// RFC 5103 section 6.1: identifiers and process-level IEs have no reverse direction.
const notReversible = new Set([
  3, 10, 14, 137, 138, 141, 142, 143, 144, 145, 148, 149, 160, 163, 164, 165, 166, 167, 168, 210, 211, 212, 213, 214,
  215, 216, 217, 40, 41, 42, 130, 131, 239, 300,
]);

// Antrea's enterprise IEs (go-ipfix registry, antrea.md section 4.5), ids and types exactly as Antrea sends them.
const antrea: readonly Row[] = [
  [100, 'sourcePodNamespace', 'string'],
  [101, 'sourcePodName', 'string'],
  [102, 'destinationPodNamespace', 'string'],
  [103, 'destinationPodName', 'string'],
  [104, 'sourceNodeName', 'string'],
  [105, 'destinationNodeName', 'string'],
  [106, 'destinationClusterIPv4', 'ipv4Address'],
  [107, 'destinationClusterIPv6', 'ipv6Address'],
  [108, 'destinationServicePort', 'unsigned16'],
  [109, 'destinationServicePortName', 'string'],
  [110, 'ingressNetworkPolicyName', 'string'],
  [111, 'ingressNetworkPolicyNamespace', 'string'],
  [112, 'egressNetworkPolicyName', 'string'],
  [113, 'egressNetworkPolicyNamespace', 'string'],
  [115, 'ingressNetworkPolicyType', 'unsigned8'],
  [118, 'egressNetworkPolicyType', 'unsigned8'],
  [136, 'tcpState', 'string'],
  [137, 'flowType', 'unsigned8'],
  [139, 'ingressNetworkPolicyRuleAction', 'unsigned8'],
  [140, 'egressNetworkPolicyRuleAction', 'unsigned8'],
  [141, 'ingressNetworkPolicyRuleName', 'string'],
  [142, 'egressNetworkPolicyRuleName', 'string'],
];

function reverseName(name: string): string {
  return `reverse${name[0]!.toUpperCase()}${name.slice(1)}`;
}

const key = (enterprise: number, id: number): number => enterprise * 0x10000 + id;

/**
 * A set of information elements, looked up by name or by (enterprise, id). Names are unique across
 * enterprises; the default registry holds IANA, RFC 5103 reverse and Antrea IEs, and can be extended.
 */
export class IeRegistry {
  private readonly byName = new Map<string, InformationElement>();
  private readonly byKey = new Map<number, InformationElement>();

  add(ie: InformationElement): InformationElement {
    if (!Number.isInteger(ie.id) || ie.id < 0 || ie.id > 0x7fff) {
      throw new IpfixError('ERR_IPFIX_BAD_VALUE', `information element ${ie.name}: id ${ie.id} is not in 0..32767`);
    }
    if (!Number.isInteger(ie.enterprise) || ie.enterprise < 0 || ie.enterprise > 0xffffffff) {
      throw new IpfixError('ERR_IPFIX_BAD_VALUE', `information element ${ie.name}: bad enterprise ${ie.enterprise}`);
    }
    const frozen = Object.freeze({ name: ie.name, enterprise: ie.enterprise, id: ie.id, type: ie.type });
    this.byName.set(frozen.name, frozen);
    this.byKey.set(key(frozen.enterprise, frozen.id), frozen);
    return frozen;
  }

  byNameOrUndefined(name: string): InformationElement | undefined {
    return this.byName.get(name);
  }

  /** The IE called `name`; throws ERR_IPFIX_UNKNOWN_IE. */
  get(name: string): InformationElement {
    const ie = this.byName.get(name);
    if (!ie) throw new IpfixError('ERR_IPFIX_UNKNOWN_IE', `unknown information element "${name}"`, { field: name });
    return ie;
  }

  lookup(enterprise: number, id: number): InformationElement | undefined {
    return this.byKey.get(key(enterprise, id));
  }

  /** The IE (enterprise, id), or an octetArray stand-in named `ie<enterprise>_<id>` for one nobody registered. */
  lookupOrUnknown(enterprise: number, id: number): InformationElement {
    return this.byKey.get(key(enterprise, id)) ?? unknownIe(enterprise, id);
  }

  all(): InformationElement[] {
    return [...this.byKey.values()];
  }

  /** A copy that can be extended without touching this one. */
  clone(): IeRegistry {
    const r = new IeRegistry();
    for (const ie of this.byKey.values()) r.add(ie);
    return r;
  }
}

export function unknownIe(enterprise: number, id: number): InformationElement {
  return { name: `ie${enterprise}_${id}`, enterprise, id, type: 'octetArray' };
}

function buildDefault(): IeRegistry {
  const r = new IeRegistry();
  for (const [id, name, type] of iana) r.add({ name, enterprise: IANA_ENTERPRISE, id, type });
  for (const [id, name, type] of iana) {
    if (!notReversible.has(id)) r.add({ name: reverseName(name), enterprise: REVERSE_ENTERPRISE, id, type });
  }
  for (const [id, name, type] of antrea) r.add({ name, enterprise: ANTREA_ENTERPRISE, id, type });
  return r;
}

/** The registry used when none is given: IANA, RFC 5103 reverse and Antrea IEs. */
export const defaultRegistry: IeRegistry = buildDefault();

/** Antrea's 37 IEs per record, in the order its flow exporter sends them (antrea.md 4.5). */
export function antreaTemplateFields(family: 4 | 6): string[] {
  const ip = family === 4 ? 'IPv4' : 'IPv6';
  return [
    'flowStartSeconds', 'flowEndSeconds', 'flowEndReason', 'sourceTransportPort', 'destinationTransportPort',
    'protocolIdentifier', 'packetTotalCount', 'octetTotalCount', 'packetDeltaCount', 'octetDeltaCount',
    `source${ip}Address`, `destination${ip}Address`,
    'reversePacketTotalCount', 'reverseOctetTotalCount', 'reversePacketDeltaCount', 'reverseOctetDeltaCount',
    'sourcePodName', 'sourcePodNamespace', 'sourceNodeName',
    'destinationPodName', 'destinationPodNamespace', 'destinationNodeName',
    'destinationServicePort', 'destinationServicePortName',
    'ingressNetworkPolicyName', 'ingressNetworkPolicyNamespace', 'ingressNetworkPolicyType',
    'ingressNetworkPolicyRuleName', 'ingressNetworkPolicyRuleAction',
    'egressNetworkPolicyName', 'egressNetworkPolicyNamespace', 'egressNetworkPolicyType',
    'egressNetworkPolicyRuleName', 'egressNetworkPolicyRuleAction',
    'tcpState', 'flowType', `destinationCluster${ip}`,
  ];
}
