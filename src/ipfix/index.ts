// Public surface of the IPFIX library. Other layers import from here only.
export { IpfixError, isIpfixError, type IpfixErrorCode } from './errors.js';
export {
  VARIABLE_LENGTH,
  defaultLength,
  isValidLength,
  type IpfixDataType,
  type IpfixInputValue,
  type IpfixRecord,
  type IpfixValue,
} from './types.js';
export {
  ANTREA_ENTERPRISE,
  IANA_ENTERPRISE,
  REVERSE_ENTERPRISE,
  IeRegistry,
  antreaTemplateFields,
  defaultRegistry,
  unknownIe,
  type InformationElement,
} from './registry.js';
export { defineTemplate, makeField, makeTemplate, templateRecordLength, type FieldSpec, type Template, type TemplateField } from './template.js';
export {
  DEFAULT_MAX_MESSAGE_SIZE,
  IpfixEncoder,
  type EncodedMessage,
  type EncoderOptions,
  type InputRecord,
} from './encoder.js';
export {
  IpfixDecoder,
  readMessageHeader,
  type DataRecord,
  type DecodedMessage,
  type DecoderOptions,
  type MessageHeader,
  type SkippedSet,
  type TemplateChange,
} from './decoder.js';
export { MessageFramer } from './framer.js';
export { IpfixExporter, type ExporterOptions, type ExporterStats, type IpfixProtocol } from './exporter.js';
export {
  IpfixCollector,
  type CollectorEvents,
  type CollectorOptions,
  type CollectorStats,
  type ListenOptions,
  type MessageMeta,
  type SessionInfo,
} from './collector.js';
export { recordToJson, recordToJsonLine, valueToJson, type JsonRecord, type JsonValue } from './json.js';
export { ipfixPcap, type PcapOptions } from './pcap.js';
