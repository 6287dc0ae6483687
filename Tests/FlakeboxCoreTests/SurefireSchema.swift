/// An XML Schema for the JUnit dialect flakebox writes, following the structure Maven Surefire's
/// reports use for reruns (`flakyFailure`, `flakyError`, `rerunFailure`, `rerunError`, each with
/// `stackTrace`, `system-out`, `system-err`), written here so that the test needs no download.
enum SurefireSchema {
    static let text = """
        <?xml version="1.0" encoding="UTF-8"?>
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
          <xs:complexType name="rerunType">
            <xs:sequence>
              <xs:element name="stackTrace" type="xs:string" minOccurs="0"/>
              <xs:element name="system-out" type="xs:string" minOccurs="0"/>
              <xs:element name="system-err" type="xs:string" minOccurs="0"/>
            </xs:sequence>
            <xs:attribute name="message" type="xs:string"/>
            <xs:attribute name="type" type="xs:string" use="required"/>
          </xs:complexType>
          <xs:complexType name="failureType" mixed="true">
            <xs:attribute name="message" type="xs:string"/>
            <xs:attribute name="type" type="xs:string"/>
          </xs:complexType>
          <xs:element name="testsuites">
            <xs:complexType>
              <xs:sequence>
                <xs:element ref="testsuite" maxOccurs="unbounded"/>
              </xs:sequence>
              <xs:attribute name="name" type="xs:string"/>
              <xs:attribute name="tests" type="xs:nonNegativeInteger"/>
              <xs:attribute name="failures" type="xs:nonNegativeInteger"/>
              <xs:attribute name="errors" type="xs:nonNegativeInteger"/>
              <xs:attribute name="flaky" type="xs:nonNegativeInteger"/>
            </xs:complexType>
          </xs:element>
          <xs:element name="testsuite">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="properties" minOccurs="0">
                  <xs:complexType>
                    <xs:sequence>
                      <xs:element name="property" minOccurs="0" maxOccurs="unbounded">
                        <xs:complexType>
                          <xs:attribute name="name" type="xs:string" use="required"/>
                          <xs:attribute name="value" type="xs:string" use="required"/>
                        </xs:complexType>
                      </xs:element>
                    </xs:sequence>
                  </xs:complexType>
                </xs:element>
                <xs:element name="testcase" minOccurs="0" maxOccurs="unbounded">
                  <xs:complexType>
                    <xs:sequence>
                      <xs:choice minOccurs="0">
                        <xs:element name="failure" type="failureType"/>
                        <xs:element name="error" type="failureType"/>
                        <xs:element name="skipped" type="failureType"/>
                      </xs:choice>
                      <xs:element name="rerunFailure" type="rerunType" minOccurs="0" maxOccurs="unbounded"/>
                      <xs:element name="rerunError" type="rerunType" minOccurs="0" maxOccurs="unbounded"/>
                      <xs:element name="flakyFailure" type="rerunType" minOccurs="0" maxOccurs="unbounded"/>
                      <xs:element name="flakyError" type="rerunType" minOccurs="0" maxOccurs="unbounded"/>
                      <xs:element name="system-out" type="xs:string" minOccurs="0"/>
                      <xs:element name="system-err" type="xs:string" minOccurs="0"/>
                    </xs:sequence>
                    <xs:attribute name="name" type="xs:string" use="required"/>
                    <xs:attribute name="classname" type="xs:string"/>
                    <xs:attribute name="time" type="xs:decimal"/>
                  </xs:complexType>
                </xs:element>
              </xs:sequence>
              <xs:attribute name="name" type="xs:string" use="required"/>
              <xs:attribute name="tests" type="xs:nonNegativeInteger" use="required"/>
              <xs:attribute name="failures" type="xs:nonNegativeInteger" use="required"/>
              <xs:attribute name="errors" type="xs:nonNegativeInteger" use="required"/>
              <xs:attribute name="skipped" type="xs:nonNegativeInteger"/>
              <xs:attribute name="time" type="xs:decimal"/>
            </xs:complexType>
          </xs:element>
        </xs:schema>
        """
}
