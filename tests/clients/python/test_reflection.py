"""A dynamic client: no generated stubs, only what server reflection tells."""

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase


def test_get_relation_through_reflection_alone(server):
    with grpc.insecure_channel(server.address) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        assert "diplomacy.v1.RelationService" in database.get_services()
        pool = descriptor_pool.DescriptorPool(database)
        service = pool.FindServiceByName("diplomacy.v1.RelationService")
        method = service.FindMethodByName("GetRelation")
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        call = channel.unary_unary(
            "/diplomacy.v1.RelationService/GetRelation",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        request = json_format.ParseDict(
            {"name": "countries/TR/relations/AM", "asOf": {"year": 2024, "month": 8, "day": 27}}, request_class())
        answer = json_format.MessageToDict(call(request))
        assert answer["diplomaticStatus"] == "DIPLOMATIC_STATUS_NONE"
        assert answer["statusSince"] == {"year": 1991, "month": 12}
