// The part of ONNX's protobuf schema that an exported model uses, as a
// protobufjs JSON descriptor. Field numbers and enum values are those of
// onnx/onnx.proto3 (ONNX 1.14+, IR version 8); messages and fields dlc never
// writes (sparse tensors, functions, training info, external data) are left
// out, which protobuf permits: a reader sees a model that simply lacks them.
// protobufjs does the encoding (varints, packed repeats, lengths), so nothing
// here writes bytes by hand.

import protobuf from "protobufjs/light.js";

/** TensorProto.DataType values dlc's tensors and its shape arithmetic use. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

const descriptor = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            ir_version: { type: "int64", id: 1 },
            opset_import: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
            producer_name: { type: "string", id: 2 },
            producer_version: { type: "string", id: 3 },
            domain: { type: "string", id: 4 },
            model_version: { type: "int64", id: 5 },
            doc_string: { type: "string", id: 6 },
            graph: { type: "GraphProto", id: 7 },
            metadata_props: { rule: "repeated", type: "StringStringEntryProto", id: 14 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: "string", id: 1 }, version: { type: "int64", id: 2 } } },
        StringStringEntryProto: { fields: { key: { type: "string", id: 1 }, value: { type: "string", id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            doc_string: { type: "string", id: 10 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
            value_info: { rule: "repeated", type: "ValueInfoProto", id: 13 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            name: { type: "string", id: 3 },
            op_type: { type: "string", id: 4 },
            domain: { type: "string", id: 7 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
            doc_string: { type: "string", id: 6 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            doc_string: { type: "string", id: 13 },
            type: { type: "int32", id: 20 },
            f: { type: "float", id: 2 },
            i: { type: "int64", id: 3 },
            s: { type: "bytes", id: 4 },
            t: { type: "TensorProto", id: 5 },
            floats: { rule: "repeated", type: "float", id: 7 },
            ints: { rule: "repeated", type: "int64", id: 8 },
          },
        },
        ValueInfoProto: { fields: { name: { type: "string", id: 1 }, type: { type: "TypeProto", id: 2 }, doc_string: { type: "string", id: 3 } } },
        TypeProto: {
          fields: { tensor_type: { type: "TypeProto.Tensor", id: 1 }, denotation: { type: "string", id: 6 } },
          nested: {
            Tensor: { fields: { elem_type: { type: "int32", id: 1 }, shape: { type: "TensorShapeProto", id: 2 } } },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: "repeated", type: "TensorShapeProto.Dimension", id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dim_value", "dim_param"] } },
              fields: { dim_value: { type: "int64", id: 1 }, dim_param: { type: "string", id: 2 }, denotation: { type: "string", id: 3 } },
            },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1 },
            data_type: { type: "int32", id: 2 },
            float_data: { rule: "repeated", type: "float", id: 4, options: { packed: true } },
            int32_data: { rule: "repeated", type: "int32", id: 5, options: { packed: true } },
            int64_data: { rule: "repeated", type: "int64", id: 7, options: { packed: true } },
            name: { type: "string", id: 8 },
            raw_data: { type: "bytes", id: 9 },
            doc_string: { type: "string", id: 12 },
          },
        },
      },
    },
  },
};

// Plain objects in the shape of the messages above (protobufjs accepts their field names as written).
export interface TensorProto {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data_type: DataTypeCode;
  /** Little-endian element bytes. */
  readonly raw_data: Uint8Array;
}
export interface AttributeProto {
  readonly name: string;
  readonly type: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: Uint8Array;
  readonly t?: TensorProto;
  readonly floats?: readonly number[];
  readonly ints?: readonly number[];
}
export interface NodeProto {
  readonly name: string;
  readonly op_type: string;
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly attribute: readonly AttributeProto[];
  readonly doc_string?: string;
}
export type DimProto = { readonly dim_value: number } | { readonly dim_param: string };
export interface ValueInfoProto {
  readonly name: string;
  readonly type: { readonly tensor_type: { readonly elem_type: DataTypeCode; readonly shape: { readonly dim: readonly DimProto[] } } };
  readonly doc_string?: string;
}
export interface GraphProto {
  readonly name: string;
  readonly node: readonly NodeProto[];
  readonly initializer: readonly TensorProto[];
  readonly input: readonly ValueInfoProto[];
  readonly output: readonly ValueInfoProto[];
  readonly doc_string?: string;
}
export interface ModelProto {
  readonly ir_version: number;
  readonly opset_import: readonly { readonly domain: string; readonly version: number }[];
  readonly producer_name: string;
  readonly producer_version: string;
  readonly doc_string?: string;
  readonly graph: GraphProto;
  readonly metadata_props?: readonly { readonly key: string; readonly value: string }[];
}

let root: protobuf.Root | undefined;
const types = () => (root ??= protobuf.Root.fromJSON(descriptor));

/** The model's protobuf bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = types().lookupType("onnx.ModelProto");
  const message = type.fromObject(model as unknown as Record<string, unknown>);
  return type.encode(message).finish();
}

/** A model's bytes back as plain objects, for reading what was written (tests, tools). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const type = types().lookupType("onnx.ModelProto");
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<string, unknown>;
}
